// The compute kernels of Kernels/Vulkan/*.comp: each one's storage-buffer bindings and
// push-constant size (32-bit words), which must match the shader's declarations.

enum VulkanKernel: String, CaseIterable, Sendable {
    case convDirect = "conv_direct"
    case convDepthwise = "conv_depthwise"
    case convGemm = "conv_gemm"
    case linearGemm = "linear_gemm"
    case elementwise
    case maxPool = "max_pool"
    case globalAveragePool = "global_avg_pool"
    case upsampleNearest = "upsample_nearest"
    case softmax
    case anchorsLast = "anchors_last"
    case roiAlign = "roi_align"

    /// Storage buffers at bindings 0..<bindings.
    var bindings: UInt32 {
        switch self {
        case .convDirect, .convDepthwise, .convGemm, .linearGemm: return 4
        case .elementwise, .anchorsLast: return 3
        case .maxPool, .globalAveragePool, .upsampleNearest, .softmax: return 2
        case .roiAlign: return 8
        }
    }

    /// Push constants, in 32-bit words (conv_params.glsl and each shader's Parameters).
    var pushWords: Int {
        switch self {
        case .convDirect, .convDepthwise, .convGemm: return 18
        case .linearGemm: return 5
        case .elementwise: return 4
        case .maxPool: return 8
        case .globalAveragePool, .softmax: return 2
        case .upsampleNearest: return 5
        case .anchorsLast: return 6
        case .roiAlign: return 7 + 3 * VulkanKernel.roiAlignMaxLevels
        }
    }

    /// Feature maps one roi_align launch reads (its bindings 0..<5).
    static let roiAlignMaxLevels = 5

    /// Workgroups for a 1-D launch of `count` threads, 256 per group, spread over x and y
    /// (x at most 65535, the minimum every device allows): common.glsl's flatIndex().
    static func linearGroups(_ count: Int, perGroup: Int = 256) -> (Int, Int, Int) {
        let groups = max(1, (count + perGroup - 1) / perGroup)
        let x = min(groups, 65535)
        return (x, (groups + x - 1) / x, 1)
    }
}

extension Int {
    /// The Int32 bit pattern a kernel's push constants hold.
    var push: UInt32 {
        precondition(self >= Int(Int32.min) && self <= Int(Int32.max), "vulkan: \(self) does not fit a kernel's 32-bit parameter")
        return UInt32(bitPattern: Int32(self))
    }
}
