// Which build of the C SIMD kernels (Kernels/CPUSIMD) a kernel call runs: a value
// given to each call (CPUBackend keeps one), never a process-wide setting. A set the
// CPU lacks is never run: the C dispatcher checks (once per process) and runs the
// generic build instead, and CPUBackend refuses such a value at init.

import CVisionSIMD

public enum InstructionSet: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Baseline x86-64 (SSE2), or the portable build on other architectures.
    case generic = 0
    /// AVX2 with FMA (8 floats per register).
    case avx2 = 1
    /// AVX-512F (16 floats per register).
    case avx512 = 2

    /// The widest instruction set this CPU and OS support.
    public static func detect() -> InstructionSet {
        allCases.last { $0.isSupported } ?? .generic
    }

    /// `detect()`, computed once per process (a constant: the CPU does not change).
    public static let detected: InstructionSet = detect()

    /// Whether this CPU runs the set (cpuid's feature bits and the OS's saved register state).
    public var isSupported: Bool { vk_isa_supported(Int32(rawValue)) != 0 }

    /// The names VISION_CPU_ISA takes: generic, avx2, avx512.
    public var description: String {
        switch self {
        case .generic: return "generic"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    /// The set named `name` (generic, avx2, avx512), or nil for another name.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = match
    }

    /// VISION_CPU_ISA's set when the variable is set (for the CLI and the benchmarks to force
    /// a path), else `detected`. Throws, with a one-line message, for an unknown name or a set
    /// this CPU lacks.
    public static func fromEnvironment(_ environment: [String: String]) throws -> InstructionSet {
        guard let name = environment["VISION_CPU_ISA"], !name.isEmpty else { return detected }
        guard let isa = InstructionSet(name: name) else {
            throw InstructionSetError(message: "VISION_CPU_ISA=\(name) is not one of generic, avx2, avx512")
        }
        guard isa.isSupported else {
            throw InstructionSetError(message: "VISION_CPU_ISA=\(name): this CPU does not support \(name) (it has \(detected))")
        }
        return isa
    }
}

public struct InstructionSetError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension ConvGeometry {
    /// The C kernels' copy of this geometry.
    var simdGeometry: vk_conv_geometry {
        vk_conv_geometry(batch: batch, in_channels: inChannels, in_h: inH, in_w: inW,
                         out_channels: outChannels, kernel_h: kernelH, kernel_w: kernelW,
                         stride_h: strideH, stride_w: strideW, pad_h: padH, pad_w: padW,
                         dilation_h: dilationH, dilation_w: dilationW,
                         groups: groups, out_h: outH, out_w: outW)
    }
}
