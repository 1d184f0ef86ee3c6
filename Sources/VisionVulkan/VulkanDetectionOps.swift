// The detection-specific operations: top-k (its values come back to the host, as its
// signature says), RoIAlign, and the RPN's anchor-order copy and gather. Boxes, RoI
// images/levels and gathered rows come from the host in small host-visible buffers the
// kernels read directly.

import CVulkan
import VisionCore

extension VulkanBackend {
    public func topK(_ input: Tensor, k: Int) -> (values: [Float], indices: [Int]) {
        precondition(input.rank == 1, "topK needs a 1-D tensor, got \(input.shape)")
        precondition(k >= 0, "topK with negative k \(k)")
        // The scores are read back (the RPN's objectness per level) and ranked on the host
        // with the CPU kernel: the selection order (ties keep the lower index) is the CPU's.
        let host = readBack(input, at: .rpnPredictions)
        return Self.hostRanking.topK(host, k: k)
    }

    /// The CPU backend that ranks top-k on the host (single-threaded: the scores are few).
    private static let hostRanking = CPUBackend(threads: .single)

    public func roiAlign(_ features: [Tensor], _ request: RoIAlignRequest) -> Tensor {
        precondition(!features.isEmpty && features.count == request.spatialScales.count,
                     "roiAlign: \(features.count) feature maps for \(request.spatialScales.count) scales")
        precondition(features.count <= VulkanKernel.roiAlignMaxLevels,
                     "roiAlign: \(features.count) feature maps, the Vulkan kernel reads at most \(VulkanKernel.roiAlignMaxLevels)")
        let first = features[0]
        precondition(features.allSatisfy { $0.rank == 4 && $0.shape[0] == first.shape[0] && $0.shape[1] == first.shape[1] },
                     "roiAlign: feature maps \(features.map(\.shape)) differ in N or C")
        let k = request.batchIndices.count
        precondition(request.boxes.count == 4 * k, "roiAlign: \(request.boxes.count) box coordinates for \(k) RoIs")
        precondition(request.levels == nil || request.levels!.count == k, "roiAlign: \(request.levels?.count ?? 0) levels for \(k) RoIs")
        // Per RoI (image, level); the kernel zero-fills RoIs whose level is outside the maps.
        var info = [Int32](repeating: 0, count: 2 * k)
        for r in 0..<k {
            let level = request.levels?[r] ?? 0
            if level >= 0 && level < features.count {
                precondition(request.batchIndices[r] >= 0 && request.batchIndices[r] < first.shape[0],
                             "roiAlign: batch index \(request.batchIndices[r]) out of 0..<\(first.shape[0])")
            }
            info[2 * r] = Int32(clamping: request.batchIndices[r])
            info[2 * r + 1] = Int32(clamping: level)
        }
        let channels = first.shape[1]
        let shape = [k, channels, request.outputHeight, request.outputWidth]
        return locked {
            let (out, outBuffer) = makeTensor(shape)
            guard out.count > 0 else { return out }
            let maps = features.map { buffer($0, "roiAlign").handle }
            let padded = (0..<VulkanKernel.roiAlignMaxLevels).map { $0 < maps.count ? maps[$0] : maps[0] }
            let boxes = request.boxes.withUnsafeBytes { context.hostBuffer(copying: $0) }
            let roiInfo = info.withUnsafeBytes { context.hostBuffer(copying: $0) }
            func levelValues(_ value: (Tensor) -> Int) -> [UInt32] {
                (0..<VulkanKernel.roiAlignMaxLevels).map { $0 < features.count ? value(features[$0]).push : 0 }
            }
            let scales = (0..<VulkanKernel.roiAlignMaxLevels).map {
                $0 < features.count ? request.spatialScales[$0].bitPattern : 0
            }
            let push = [k, channels, request.outputHeight, request.outputWidth, request.samplingRatio,
                        request.aligned ? 1 : 0, features.count].map(\.push)
                + levelValues { $0.shape[2] } + levelValues { $0.shape[3] } + scales
            context.dispatch(.roiAlign, padded + [boxes, roiInfo, outBuffer.handle], push: push,
                             groups: VulkanKernel.linearGroups(out.count))
            return out
        }
    }

    public func anchorsLast(_ input: Tensor, image: Int, valuesPerAnchor v: Int) -> Tensor {
        checkAnchorInput(input, image: image, valuesPerAnchor: v, "anchorsLast")
        let rows = input.shape[1] / v * input.shape[2] * input.shape[3]
        return anchorRows(input, image: image, valuesPerAnchor: v, count: rows, gather: nil)
    }

    public func gatherAnchors(_ input: Tensor, image: Int, valuesPerAnchor v: Int, rows indices: [Int]) -> Tensor {
        checkAnchorInput(input, image: image, valuesPerAnchor: v, "gatherAnchors")
        let total = input.shape[1] / v * input.shape[2] * input.shape[3]
        let rows = indices.map { row -> Int32 in
            precondition(row >= 0 && row < total, "gatherAnchors: row \(row) out of 0..<\(total)")
            return Int32(row)
        }
        return anchorRows(input, image: image, valuesPerAnchor: v, count: indices.count, gather: rows)
    }

    private func checkAnchorInput(_ input: Tensor, image: Int, valuesPerAnchor v: Int, _ operation: String) {
        precondition(input.rank == 4 && v > 0 && input.shape[1] % v == 0 && image >= 0 && image < input.shape[0],
                     "\(operation): input \(input.shape), image \(image), \(v) values per anchor")
    }

    /// anchors_last.comp: rows 0..<count of image `image`'s anchor order, or rows `gather`.
    private func anchorRows(_ input: Tensor, image: Int, valuesPerAnchor v: Int, count: Int, gather: [Int32]?) -> Tensor {
        locked {
            let (out, outBuffer) = makeTensor([count, v])
            guard out.count > 0 else { return out }
            let rows = (gather ?? [0]).withUnsafeBytes { context.hostBuffer(copying: $0) }
            let push = [image, input.shape[1], input.shape[2] * input.shape[3], v, count, gather == nil ? 0 : 1].map(\.push)
            context.dispatch(.anchorsLast, [buffer(input, "anchorRows").handle, rows, outBuffer.handle], push: push,
                             groups: VulkanKernel.linearGroups(out.count))
            return out
        }
    }
}
