// AnchorGenerator: torchvision's anchor_utils.AnchorGenerator, bit for bit.
//
// Cell anchors (per level, zero-centred) are computed in Float32 exactly as
// torchvision: h = sqrt(ratio), w = 1 / h, ws = w * size (ratio-major,
// size-minor), base = round([-ws, -hs, ws, hs] / 2) with round-half-to-even.
// Grid anchors shift them by (x * strideW, y * strideH), where the stride is the
// integer division padded image size / feature size (so an odd "pool" map on an
// 800-high image has stride 61, not 64). Output order: level -> y -> x -> anchor.

public struct AnchorGenerator: Sendable {
    /// Anchor sizes per level (pixels).
    public let sizes: [[Int]]
    /// Aspect ratios (height / width) per level, as Python floats before the Float32 cast.
    public let aspectRatios: [[Double]]
    /// Zero-centred anchors per level, [ratios * sizes, 4], ratio-major.
    public let cellAnchors: [Boxes]

    public init(sizes: [[Int]], aspectRatios: [[Double]]) {
        precondition(sizes.count == aspectRatios.count,
                     "AnchorGenerator: \(sizes.count) size levels but \(aspectRatios.count) ratio levels")
        self.sizes = sizes
        self.aspectRatios = aspectRatios
        self.cellAnchors = zip(sizes, aspectRatios).map { AnchorGenerator.cellAnchors(sizes: $0, aspectRatios: $1) }
    }

    /// fasterrcnn_resnet50_fpn(_v2): one size per level (32..512) on 5 levels ("0".."3", "pool"), 3 ratios.
    public static let resNetFPN = AnchorGenerator(
        sizes: [[32], [64], [128], [256], [512]],
        aspectRatios: Array(repeating: [0.5, 1.0, 2.0], count: 5))

    /// fasterrcnn_mobilenet_v3_large(_320)_fpn: 5 sizes x 3 ratios on each of 3 levels ("0", "1", "pool").
    public static let mobileNetFPN = AnchorGenerator(
        sizes: Array(repeating: [32, 64, 128, 256, 512], count: 3),
        aspectRatios: Array(repeating: [0.5, 1.0, 2.0], count: 3))

    /// Anchors per feature-map location, per level (torchvision's num_anchors_per_location).
    public var anchorsPerLocation: [Int] { zip(sizes, aspectRatios).map { $0.count * $1.count } }

    /// Zero-centred anchors for one level (torchvision's generate_anchors), Float32 throughout.
    public static func cellAnchors(sizes: [Int], aspectRatios: [Double]) -> Boxes {
        var out = Boxes()
        for ratio in aspectRatios {
            let hRatio = Float(ratio).squareRoot()
            let wRatio = 1 / hRatio
            for size in sizes {
                let ws = wRatio * Float(size)
                let hs = hRatio * Float(size)
                out.append(x1: (-ws / 2).rounded(.toNearestOrEven), y1: (-hs / 2).rounded(.toNearestOrEven),
                           x2: (ws / 2).rounded(.toNearestOrEven), y2: (hs / 2).rounded(.toNearestOrEven))
            }
        }
        return out
    }

    /// Per-level (strideH, strideW) = padded size / feature size, integer division.
    public static func strides(featureSizes: [(height: Int, width: Int)],
                               paddedImageSize: (height: Int, width: Int)) -> [(height: Int, width: Int)] {
        featureSizes.map { f in
            precondition(f.height > 0 && f.width > 0, "AnchorGenerator: empty feature map \(f)")
            return (paddedImageSize.height / f.height, paddedImageSize.width / f.width)
        }
    }

    /// Number of anchors `anchors(featureSizes:paddedImageSize:)` returns.
    public func anchorCount(featureSizes: [(height: Int, width: Int)]) -> Int {
        zip(featureSizes, cellAnchors).reduce(0) { $0 + $1.0.height * $1.0.width * $1.1.count }
    }

    /// All anchors of one image, in pixels of the padded batch image: [sum over levels of H*W*A, 4],
    /// ordered level -> y -> x -> cell anchor. `featureSizes` are the (H, W) of the feature maps fed
    /// to the RPN, one per level; `paddedImageSize` is the batch tensor's (H, W) after padding.
    /// torchvision returns this same list for every image of the batch.
    public func anchors(featureSizes: [(height: Int, width: Int)],
                        paddedImageSize: (height: Int, width: Int)) -> Boxes {
        precondition(featureSizes.count == cellAnchors.count,
                     "AnchorGenerator: \(featureSizes.count) feature maps for \(cellAnchors.count) anchor levels")
        let strides = AnchorGenerator.strides(featureSizes: featureSizes, paddedImageSize: paddedImageSize)
        var coordinates = [Float](repeating: 0, count: anchorCount(featureSizes: featureSizes) * 4)
        coordinates.withUnsafeMutableBufferPointer { out in
            var o = 0
            for level in 0..<featureSizes.count {
                let size = featureSizes[level]
                let stride = strides[level]
                cellAnchors[level].coordinates.withUnsafeBufferPointer { base in
                    let a = base.count / 4
                    for y in 0..<size.height {
                        // torch adds an int64 shift to Float32 anchors: the shift is converted to Float32.
                        let sy = Float(y &* stride.height)
                        for x in 0..<size.width {
                            let sx = Float(x &* stride.width)
                            for k in 0..<a {
                                out[o] = sx + base[k &* 4]
                                out[o &+ 1] = sy + base[k &* 4 &+ 1]
                                out[o &+ 2] = sx + base[k &* 4 &+ 2]
                                out[o &+ 3] = sy + base[k &* 4 &+ 3]
                                o &+= 4
                            }
                        }
                    }
                }
            }
        }
        return Boxes(coordinates: coordinates)
    }
}
