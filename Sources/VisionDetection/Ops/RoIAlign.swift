// torchvision's `roi_align` entry points on Tensors (one feature map), on the CPU
// kernel (Kernels/CPU/RoIAlign.swift). Detection models pool through their
// ComputeBackend's `roiAlign` (MultiScaleRoIAlign); these serve tests and training.

import VisionCore
import VisionKernels

/// torchvision `roi_align` on one feature map.
/// - features: [N, C, H, W].
/// - boxes: K RoIs (x1, y1, x2, y2) in input-image pixels; `batchIndices[k]` in 0..<N picks the image.
/// - spatialScale: feature pixels per image pixel (1/stride).
/// - samplingRatio: samples per bin along each axis; <= 0 means ceil(roi size / output size).
/// - threads: at most this many threads pool at once.
/// - Returns [K, C, outputHeight, outputWidth].
public func roiAlign(features: Tensor, boxes: Boxes, batchIndices: [Int],
                     outputHeight: Int = 7, outputWidth: Int = 7,
                     spatialScale: Float, samplingRatio: Int, aligned: Bool = false,
                     threads: KernelThreads) -> Tensor {
    precondition(features.rank == 4, "roiAlign: features must be [N, C, H, W], got \(features.shape)")
    precondition(batchIndices.count == boxes.count,
                 "roiAlign: \(batchIndices.count) batch indices for \(boxes.count) boxes")
    let source = RoIAlignSource(base: UnsafePointer(features.storage.pointer), batch: features.shape[0],
                                channels: features.shape[1], height: features.shape[2], width: features.shape[3],
                                spatialScale: spatialScale)
    let output = Tensor(shape: [boxes.count, source.channels, outputHeight, outputWidth])
    withExtendedLifetime(features) {
        boxes.coordinates.withUnsafeBufferPointer { coords in
            RoIAlignKernel.run(sources: [source], levels: nil, boxes: coords, batchIndices: batchIndices,
                               pooledHeight: outputHeight, pooledWidth: outputWidth, samplingRatio: samplingRatio,
                               aligned: aligned, output: output.storage.pointer, threads: threads)
        }
    }
    return output
}

/// torchvision's calling form: `rois` is [K, 5], rows (batch index, x1, y1, x2, y2).
public func roiAlign(features: Tensor, rois: Tensor, outputHeight: Int = 7, outputWidth: Int = 7,
                     spatialScale: Float, samplingRatio: Int, aligned: Bool = false,
                     threads: KernelThreads) -> Tensor {
    precondition(rois.rank == 2 && rois.shape[1] == 5, "roiAlign: rois must be [K, 5], got \(rois.shape)")
    let v = rois.values
    let k = rois.shape[0]
    var boxes = [Float](repeating: 0, count: k * 4)
    var batchIndices = [Int](repeating: 0, count: k)
    for r in 0..<k {
        let b = v[r * 5]
        precondition(b >= 0 && b < Float(features.shape[0]), "roiAlign: batch index \(b) out of 0..<\(features.shape[0])")
        batchIndices[r] = Int(b)  // C++ (int) truncation
        for c in 0..<4 { boxes[r * 4 + c] = v[r * 5 + 1 + c] }
    }
    return roiAlign(features: features, boxes: Boxes(coordinates: boxes), batchIndices: batchIndices,
                    outputHeight: outputHeight, outputWidth: outputWidth,
                    spatialScale: spatialScale, samplingRatio: samplingRatio, aligned: aligned, threads: threads)
}

