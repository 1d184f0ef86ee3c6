// The CPU backends' side of the seam: tensors already live in host memory, so
// upload and read-back hand the tensor back; RoIAlign on the CPU kernel
// (Kernels/CPU/RoIAlign.swift); the RPN's anchor-order copy and gather.

import VisionKernels

extension CPUBackend {
    public func upload(_ tensor: Tensor) -> Tensor { tensor }

    public func readBack(_ tensor: Tensor, at point: ReadBackPoint) -> Tensor { tensor }

    public func roiAlign(_ features: [Tensor], _ request: RoIAlignRequest) -> Tensor {
        roiAlignOnCPU(features, request, threads: threads)
    }

    public func anchorsLast(_ input: Tensor, image: Int, valuesPerAnchor: Int) -> Tensor {
        anchorsLastOnCPU(input, image: image, valuesPerAnchor: valuesPerAnchor)
    }

    public func gatherAnchors(_ input: Tensor, image: Int, valuesPerAnchor: Int, rows indices: [Int]) -> Tensor {
        gatherAnchorsOnCPU(input, image: image, valuesPerAnchor: valuesPerAnchor, rows: indices)
    }
}

/// `roiAlign` on the CPU kernel, shared with ReferenceBackend.
func roiAlignOnCPU(_ features: [Tensor], _ request: RoIAlignRequest, threads: KernelThreads) -> Tensor {
    precondition(!features.isEmpty && features.count == request.spatialScales.count,
                 "roiAlign: \(features.count) feature maps for \(request.spatialScales.count) scales")
    let first = features[0]
    precondition(features.allSatisfy { $0.rank == 4 && $0.shape[0] == first.shape[0] && $0.shape[1] == first.shape[1] },
                 "roiAlign: feature maps \(features.map(\.shape)) differ in N or C")
    let output = Tensor(shape: [request.batchIndices.count, first.shape[1], request.outputHeight, request.outputWidth])
    let sources = zip(features, request.spatialScales).map { f, scale in
        RoIAlignSource(base: UnsafePointer(f.storage.pointer), batch: f.shape[0], channels: f.shape[1],
                       height: f.shape[2], width: f.shape[3], spatialScale: scale)
    }
    // The tensors' storages outlive the kernel call: `features` is held until it returns.
    withExtendedLifetime(features) {
        request.boxes.withUnsafeBufferPointer { boxes in
            RoIAlignKernel.run(sources: sources, levels: request.levels, boxes: boxes, batchIndices: request.batchIndices,
                               pooledHeight: request.outputHeight, pooledWidth: request.outputWidth,
                               samplingRatio: request.samplingRatio, aligned: request.aligned,
                               output: output.storage.pointer, threads: threads)
        }
    }
    return output
}

/// input [N, A * v, H, W] (anchor a's value j at channel a * v + j) -> image `image`'s
/// [H * W * A, v], row (y * W + x) * A + a: torchvision's permute_and_flatten order.
func anchorsLastOnCPU(_ input: Tensor, image: Int, valuesPerAnchor v: Int) -> Tensor {
    precondition(input.rank == 4 && v > 0 && input.shape[1] % v == 0 && image >= 0 && image < input.shape[0],
                 "anchorsLast: input \(input.shape), image \(image), \(v) values per anchor")
    let anchors = input.shape[1] / v, hw = input.shape[2] * input.shape[3]
    let out = Tensor(uninitializedShape: [hw * anchors, v])
    let src = input.storage.pointer + image * input.shape[1] * hw, dst = out.storage.pointer
    for a in 0..<anchors {
        for j in 0..<v {
            let plane = src + (a * v + j) * hw
            for pixel in 0..<hw { dst[(pixel * anchors + a) * v + j] = plane[pixel] }
        }
    }
    return out
}

/// Rows `indices` of `anchorsLastOnCPU(input, image, v)` -> [indices.count, v], read straight
/// from the [N, A * v, H, W] input.
func gatherAnchorsOnCPU(_ input: Tensor, image: Int, valuesPerAnchor v: Int, rows indices: [Int]) -> Tensor {
    precondition(input.rank == 4 && v > 0 && input.shape[1] % v == 0 && image >= 0 && image < input.shape[0],
                 "gatherAnchors: input \(input.shape), image \(image), \(v) values per anchor")
    let anchors = input.shape[1] / v, hw = input.shape[2] * input.shape[3]
    let out = Tensor(uninitializedShape: [indices.count, v])
    let src = input.storage.pointer + image * input.shape[1] * hw, dst = out.storage.pointer
    for (i, row) in indices.enumerated() {
        precondition(row >= 0 && row < hw * anchors, "gatherAnchors: row \(row) out of 0..<\(hw * anchors)")
        let pixel = row / anchors, a = row % anchors
        for j in 0..<v { dst[i * v + j] = src[(a * v + j) * hw + pixel] }
    }
    return out
}
