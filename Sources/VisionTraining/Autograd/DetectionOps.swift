// Differentiable detection-specific ops: RoIAlign (single map and torchvision's
// MultiScaleRoIAlign), and the RPN's concat_box_prediction_layers reordering.

import VisionCore
import VisionDetection
import VisionKernels

extension Tape {
    /// torchvision roi_align on one map: features [N, C, H, W], K boxes in image pixels with
    /// their image indices -> [K, C, outputSize, outputSize]. Gradient w.r.t. the features only.
    public func roiAlign(_ features: Variable, boxes: Boxes, batchIndices: [Int], outputSize: Int,
                         spatialScale: Float, samplingRatio: Int, aligned: Bool = false) -> Variable {
        let out = VisionDetection.roiAlign(features: features.value, boxes: boxes, batchIndices: batchIndices,
                                           outputHeight: outputSize, outputWidth: outputSize,
                                           spatialScale: spatialScale, samplingRatio: samplingRatio, aligned: aligned, threads: self.threads)
        let f = features.shape
        let geometry = RoIAlignGeometry(batch: f[0], channels: f[1], height: f[2], width: f[3],
                                        pooledHeight: outputSize, pooledWidth: outputSize, spatialScale: spatialScale,
                                        samplingRatio: samplingRatio, aligned: aligned)
        return record(out, inputs: [features]) { dy in
            let dx = zeros(f)
            boxes.coordinates.withUnsafeBufferPointer { b in
                batchIndices.withUnsafeBufferPointer { bi in
                    roiAlignBackward(gradOutput: dy.storage.pointer, gradInput: dx.storage.pointer,
                                     boxes: b.baseAddress!, batchIndices: bi.baseAddress!, roiCount: boxes.count,
                                     geometry: geometry, threads: self.threads)
                }
            }
            features.accumulateGrad(dx, threads: self.threads)
        }
    }

    /// torchvision MultiScaleRoIAlign over FPN levels (see VisionDetection's MultiScaleRoIAlign):
    /// boxes per image in resized-image pixels -> [sum of box counts, C, S, S], image-major.
    public func multiScaleRoIAlign(_ features: [Variable], boxes: [Boxes], imageSizes: [(height: Int, width: Int)],
                                   pooler: MultiScaleRoIAlign = MultiScaleRoIAlign()) -> Variable {
        let out = pooler(features: features.map(\.value), boxes: boxes, imageSizes: imageSizes,
                         backend: CPUBackend(threads: threads))
        let (scales, mapper) = pooler.setup(featureHeights: features.map { $0.shape[2] }, imageSizes: imageSizes)
        var all = Boxes()
        var batchIndices: [Int] = []
        for (image, list) in boxes.enumerated() {
            all.append(contentsOf: list)
            batchIndices.append(contentsOf: repeatElement(image, count: list.count))
        }
        let levels = features.count == 1 ? [Int](repeating: 0, count: all.count) : mapper.levels(all)
        let size = pooler.outputSize, ratio = pooler.samplingRatio
        return record(out, inputs: features) { dy in
            for (l, feature) in features.enumerated() where feature.requiresGrad {
                let f = feature.shape
                let dx = zeros(f)
                let geometry = RoIAlignGeometry(batch: f[0], channels: f[1], height: f[2], width: f[3],
                                                pooledHeight: size, pooledWidth: size, spatialScale: scales[l],
                                                samplingRatio: ratio, aligned: false)
                all.coordinates.withUnsafeBufferPointer { b in
                    batchIndices.withUnsafeBufferPointer { bi in
                        levels.withUnsafeBufferPointer { lv in
                            roiAlignBackward(gradOutput: dy.storage.pointer, gradInput: dx.storage.pointer,
                                             boxes: b.baseAddress!, batchIndices: bi.baseAddress!, roiCount: all.count,
                                             levels: lv.baseAddress!, level: l, geometry: geometry, threads: self.threads)
                        }
                    }
                }
                feature.accumulateGrad(dx, threads: self.threads)
            }
        }
    }

    /// torchvision concat_box_prediction_layers for one kind of prediction: per level
    /// [N, A*V, H, W] (channel a*V + v) -> [N * sum(H*W*A), V], rows ordered image,
    /// level, (y, x, anchor) — the order of the anchors and of the RPN's targets.
    public func flattenPredictions(_ levels: [Variable], valuesPerAnchor v: Int) -> Variable {
        precondition(!levels.isEmpty && levels.allSatisfy { $0.value.rank == 4 && $0.shape[0] == levels[0].shape[0] },
                     "flattenPredictions: levels \(levels.map(\.shape))")
        let n = levels[0].shape[0]
        let perImage = levels.reduce(0) { $0 + $1.shape[1] / v * $1.shape[2] * $1.shape[3] }
        let out = Tensor(uninitializedShape: [n * perImage, v])
        // Visits every (level element, output row) pair once; `scatter` picks the direction.
        func walk(_ body: (_ level: Int, _ src: Int, _ dst: Int) -> Void) {
            var rowOffset = 0
            for (l, level) in levels.enumerated() {
                let anchors = level.shape[1] / v, hw = level.shape[2] * level.shape[3]
                for image in 0..<n {
                    for a in 0..<anchors {
                        for k in 0..<v {
                            let srcBase = ((image * anchors + a) * v + k) * hw
                            for p in 0..<hw {
                                let row = image * perImage + rowOffset + p * anchors + a
                                body(l, srcBase + p, row * v + k)
                            }
                        }
                    }
                }
                rowOffset += anchors * hw
            }
        }
        let dst = out.storage.pointer
        let sources = levels.map { $0.value.storage.pointer }
        walk { l, s, d in dst[d] = sources[l][s] }
        return record(out, inputs: levels) { dy in
            let grads = levels.map { zeros($0.shape) }
            let g = dy.storage.pointer
            let targets = grads.map { $0.storage.pointer }
            walk { l, s, d in targets[l][s] += g[d] }
            for (level, grad) in zip(levels, grads) { level.accumulateGrad(grad, threads: self.threads) }
        }
    }
}
