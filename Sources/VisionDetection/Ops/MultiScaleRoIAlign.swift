// MultiScaleRoIAlign and LevelMapper, as torchvision's ops/poolers.py.
//
// Each FPN level's scale is 2**round(log2(featureH / imageH)), with imageH the
// largest resized (unpadded) image height of the batch, in Float32. The RoIs of
// all images are concatenated (image-major); each is assigned a level by the
// FPN paper's heuristic and pooled from that level with roiAlign. Output:
// [K, C, outputSize, outputSize] in the concatenated RoI order.

import Foundation
import VisionCore

/// FPN level assignment: level = floor(canonicalLevel + log2(sqrt(area) / canonicalScale) + eps),
/// clamped to [kMin, kMax], returned as an index from 0 (= kMin).
public struct LevelMapper: Sendable {
    public var kMin: Int, kMax: Int
    public var canonicalScale: Int, canonicalLevel: Int
    public var eps: Float

    public init(kMin: Int, kMax: Int, canonicalScale: Int = 224, canonicalLevel: Int = 4, eps: Float = 1e-6) {
        self.kMin = kMin; self.kMax = kMax
        self.canonicalScale = canonicalScale; self.canonicalLevel = canonicalLevel
        self.eps = eps
    }

    /// Level index (0...kMax-kMin) per box. A box whose level is NaN (negative area) gets -1:
    /// torch's int cast of NaN matches no level there, so such a RoI pools to zeros.
    public func levels(_ boxes: Boxes) -> [Int] {
        let lo = Float(kMin), hi = Float(kMax), s0 = Float(canonicalScale), l0 = Float(canonicalLevel)
        return boxes.areas.map { area in
            // Float32 throughout, in torch's order: ((l0 + log2(sqrt(a) / s0)) + eps).
            var level = (l0 + Foundation.log2(area.squareRoot() / s0) + eps).rounded(.down)
            if level.isNaN { return -1 }
            level = level < lo ? lo : (level > hi ? hi : level)
            return Int(level) - kMin
        }
    }
}

public struct MultiScaleRoIAlign: Sendable {
    public var outputSize: Int
    public var samplingRatio: Int
    public var canonicalScale: Int
    public var canonicalLevel: Int

    /// Faster R-CNN's box pooler: MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2).
    public init(outputSize: Int = 7, samplingRatio: Int = 2, canonicalScale: Int = 224, canonicalLevel: Int = 4) {
        self.outputSize = outputSize
        self.samplingRatio = samplingRatio
        self.canonicalScale = canonicalScale
        self.canonicalLevel = canonicalLevel
    }

    /// torchvision _infer_scale: 2**round(log2(featureHeight / imageHeight)), log2 and
    /// round (half to even) in Float32, as an exact power of two.
    public static func inferScale(featureHeight: Int, imageHeight: Int) -> Float {
        let approx = Float(Double(featureHeight) / Double(imageHeight))
        let exponent = Foundation.log2(approx).rounded(.toNearestOrEven)
        return Float(Foundation.pow(2.0, Double(exponent)))
    }

    /// The scale of each level and the level mapper for these features and image sizes
    /// (torchvision _setup_scales; k_min/k_max = -log2 of the first/last scale, truncated).
    public func setup(featureHeights: [Int], imageSizes: [(height: Int, width: Int)]) -> (scales: [Float], mapper: LevelMapper) {
        precondition(!featureHeights.isEmpty && !imageSizes.isEmpty, "MultiScaleRoIAlign: no features or no images")
        let maxHeight = imageSizes.map(\.height).max()!
        let scales = featureHeights.map { MultiScaleRoIAlign.inferScale(featureHeight: $0, imageHeight: maxHeight) }
        let kMin = Int(-Foundation.log2(scales.first!))
        let kMax = Int(-Foundation.log2(scales.last!))
        return (scales, LevelMapper(kMin: kMin, kMax: kMax, canonicalScale: canonicalScale, canonicalLevel: canonicalLevel))
    }

    /// Pools every box of every image on `backend`.
    /// - features: the pooled levels in order (torchvision's "0".."3"; never "pool"), each [N, C, H_l, W_l].
    /// - boxes: per image (N lists), in pixels of the resized image.
    /// - imageSizes: per image, the resized unpadded (height, width) (torchvision's image_sizes).
    /// - Returns [sum of box counts, C, outputSize, outputSize], image-major, boxes in order.
    /// torchvision caches the scales from its first call; they are recomputed here on every call,
    /// which gives the same scales whenever the features keep their stride.
    public func callAsFunction(features: [Tensor], boxes: [Boxes], imageSizes: [(height: Int, width: Int)],
                               backend: ComputeBackend) -> Tensor {
        precondition(!features.isEmpty, "MultiScaleRoIAlign: no feature maps")
        precondition(features.allSatisfy { $0.rank == 4 && $0.shape[0] == boxes.count && $0.shape[1] == features[0].shape[1] },
                     "MultiScaleRoIAlign: features \(features.map(\.shape)) do not match \(boxes.count) images")
        let (scales, mapper) = setup(featureHeights: features.map { $0.shape[2] }, imageSizes: imageSizes)
        var all = Boxes()
        var batchIndices: [Int] = []
        for (image, list) in boxes.enumerated() {
            all.append(contentsOf: list)
            batchIndices.append(contentsOf: repeatElement(image, count: list.count))
        }
        // With a single level torchvision skips the mapper: every RoI goes to level 0.
        let levels = features.count == 1 ? nil : mapper.levels(all)
        return backend.roiAlign(features, RoIAlignRequest(
            boxes: all.coordinates, batchIndices: batchIndices, levels: levels, spatialScales: scales,
            outputHeight: outputSize, outputWidth: outputSize, samplingRatio: samplingRatio, aligned: false))
    }
}
