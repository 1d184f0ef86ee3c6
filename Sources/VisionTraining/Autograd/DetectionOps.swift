// Differentiable detection-specific ops: RoIAlign (single map and torchvision's
// MultiScaleRoIAlign), and the RPN's concat_box_prediction_layers reordering.
// Forward and backward run on the tape's backend.

import VisionCore
import VisionDetection

extension Tape {
    /// torchvision roi_align on one map: features [N, C, H, W], K boxes in image pixels with
    /// their image indices -> [K, C, outputSize, outputSize]. Gradient w.r.t. the features only.
    public func roiAlign(_ features: Variable, boxes: Boxes, batchIndices: [Int], outputSize: Int,
                         spatialScale: Float, samplingRatio: Int, aligned: Bool = false) -> Variable {
        precondition(features.value.rank == 4, "roiAlign: features must be [N, C, H, W], got \(features.shape)")
        precondition(batchIndices.count == boxes.count, "roiAlign: \(batchIndices.count) batch indices for \(boxes.count) boxes")
        let request = RoIAlignRequest(boxes: boxes.coordinates, batchIndices: batchIndices, levels: nil,
                                      spatialScales: [spatialScale], outputHeight: outputSize, outputWidth: outputSize,
                                      samplingRatio: samplingRatio, aligned: aligned)
        let out = backend.roiAlign([features.value], request)
        return record(out, inputs: [features]) { dy in
            let dx = self.backend.roiAlignBackward(dy, featureShapes: [features.shape], request, mapGradient: [true])[0]!
            features.accumulateGrad(dx, backend: self.backend)
        }
    }

    /// torchvision MultiScaleRoIAlign over FPN levels (see VisionDetection's MultiScaleRoIAlign):
    /// boxes per image in resized-image pixels -> [sum of box counts, C, S, S], image-major.
    public func multiScaleRoIAlign(_ features: [Variable], boxes: [Boxes], imageSizes: [(height: Int, width: Int)],
                                   pooler: MultiScaleRoIAlign = MultiScaleRoIAlign()) -> Variable {
        let out = pooler(features: features.map(\.value), boxes: boxes, imageSizes: imageSizes, backend: backend)
        let (scales, mapper) = pooler.setup(featureHeights: features.map { $0.shape[2] }, imageSizes: imageSizes)
        var all = Boxes()
        var batchIndices: [Int] = []
        for (image, list) in boxes.enumerated() {
            all.append(contentsOf: list)
            batchIndices.append(contentsOf: repeatElement(image, count: list.count))
        }
        // The pooler's levels: with a single map every RoI is on level 0.
        let levels = features.count == 1 ? [Int](repeating: 0, count: all.count) : mapper.levels(all)
        let request = RoIAlignRequest(boxes: all.coordinates, batchIndices: batchIndices, levels: levels,
                                      spatialScales: scales, outputHeight: pooler.outputSize, outputWidth: pooler.outputSize,
                                      samplingRatio: pooler.samplingRatio, aligned: false)
        return record(out, inputs: features) { dy in
            let grads = self.backend.roiAlignBackward(dy, featureShapes: features.map(\.shape), request,
                                                      mapGradient: features.map(\.requiresGrad))
            for (feature, grad) in zip(features, grads) {
                if let grad { feature.accumulateGrad(grad, backend: self.backend) }
            }
        }
    }

    /// torchvision concat_box_prediction_layers for one kind of prediction: per level
    /// [N, A*V, H, W] (channel a*V + v) -> [N * sum(H*W*A), V], rows ordered image,
    /// level, (y, x, anchor) — the order of the anchors and of the RPN's targets.
    public func flattenPredictions(_ levels: [Variable], valuesPerAnchor v: Int) -> Variable {
        precondition(!levels.isEmpty && levels.allSatisfy { $0.value.rank == 4 && $0.shape[0] == levels[0].shape[0] },
                     "flattenPredictions: levels \(levels.map(\.shape))")
        let out = backend.flattenPredictions(levels.map(\.value), valuesPerAnchor: v)
        return record(out, inputs: levels) { dy in
            let grads = self.backend.flattenPredictionsBackward(dy, levelShapes: levels.map(\.shape), valuesPerAnchor: v)
            for (level, grad) in zip(levels, grads) { level.accumulateGrad(grad, backend: self.backend) }
        }
    }
}
