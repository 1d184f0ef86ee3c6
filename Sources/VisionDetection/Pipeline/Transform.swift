import VisionCore
import VisionImaging

/// torchvision's GeneralizedRCNNTransform at inference: normalise, resize so the
/// short side is `minSize` (long side at most `maxSize`), batch with zero padding
/// to a multiple of `sizeDivisible`; and the inverse mapping of boxes.
public struct DetectionTransform: Sendable {
    public let minSize: Int
    public let maxSize: Int
    public let mean: [Float]
    public let std: [Float]
    public let sizeDivisible: Int

    public init(config: ModelConfig) {
        minSize = config.minSize
        maxSize = config.maxSize
        mean = config.imageMean
        std = config.imageStd
        sizeDivisible = config.sizeDivisible
    }

    /// One image after normalise + resize: [3, h, w] and its sizes.
    public struct Prepared: Sendable {
        public let image: Tensor
        public let originalSize: (height: Int, width: Int)
        public var resizedSize: (height: Int, width: Int) { (image.shape[1], image.shape[2]) }
    }

    /// image [1 or none, 3, H, W] in [0, 1] -> normalised, resized [3, h, w].
    /// Normalising first, then resizing, is torchvision's order (it matters at the
    /// last bit, since the resize is linear only up to rounding).
    public func prepare(_ image: Tensor) -> Prepared {
        let chw = image.rank == 4 ? image.reshaped(Array(image.shape.dropFirst())) : image
        precondition(chw.rank == 3 && chw.shape[0] == 3, "DetectionTransform: expected [3, H, W], got \(image.shape)")
        let height = chw.shape[1], width = chw.shape[2]
        let normalized = Tensor(uninitializedShape: chw.shape)
        let plane = height * width
        let src = chw.storage.pointer, dst = normalized.storage.pointer
        for c in 0..<3 {
            let m = mean[c], s = std[c]
            let base = c &* plane
            for i in 0..<plane { dst[base &+ i] = (src[base &+ i] - m) / s }
        }
        let size = detectionResizeSize(height: height, width: width, minSize: minSize, maxSize: maxSize)
        let resized = resizeBilinear(normalized, height: size.height, width: size.width)
        return Prepared(image: resized, originalSize: (height, width))
    }

    /// Pads every image with zeros (bottom, right) to one [N, 3, H, W] batch, H and W
    /// the largest sizes rounded up to a multiple of `sizeDivisible`.
    public func batch(_ images: [Prepared]) -> Tensor {
        let d = sizeDivisible
        let maxH = images.map { $0.resizedSize.height }.max() ?? 0
        let maxW = images.map { $0.resizedSize.width }.max() ?? 0
        let H = (maxH + d - 1) / d * d, W = (maxW + d - 1) / d * d
        let out = Tensor(shape: [images.count, 3, H, W])
        let dst = out.storage.pointer
        for (n, prepared) in images.enumerated() {
            let h = prepared.resizedSize.height, w = prepared.resizedSize.width
            let src = prepared.image.storage.pointer
            for c in 0..<3 {
                for y in 0..<h {
                    (dst + ((n &* 3 &+ c) &* H &+ y) &* W).update(from: src + (c &* h &+ y) &* w, count: w)
                }
            }
        }
        return out
    }

    /// Boxes in resized-image pixels -> original-image pixels: x * (orig_w / resized_w)
    /// in Float32, as torchvision's postprocess (no clipping afterwards).
    public func mapToOriginal(_ boxes: inout Boxes, resized: (height: Int, width: Int), original: (height: Int, width: Int)) {
        let rh = Float(original.height) / Float(resized.height)
        let rw = Float(original.width) / Float(resized.width)
        boxes.coordinates.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < p.count {
                p[i] *= rw; p[i + 1] *= rh; p[i + 2] *= rw; p[i + 3] *= rh
                i += 4
            }
        }
    }
}
