// --backend cpu|vulkan and --device N, shared by predict, eval and serve: the compute
// backend every detection of the command runs on.
//
// VISION_VULKAN_LOADER names the Vulkan loader to open instead of libvulkan.so.1 (read
// here only, never by the library): tests point it at a missing file to check what
// happens on a machine without Vulkan. VISION_CPU_ISA=generic|avx2|avx512 forces the CPU
// backend's SIMD kernels onto one instruction set (default: the widest the CPU has).

import ArgumentParser
import Foundation
import VisionCore
import VisionVulkan

enum BackendKind: String, ExpressibleByArgument, CaseIterable {
    case cpu
    case vulkan
}

struct BackendOption: ParsableArguments {
    @Option(help: ArgumentHelp("Compute backend: cpu, or vulkan (a GPU of any vendor through Vulkan compute; `vision devices` lists them).",
                               valueName: "cpu|vulkan"))
    var backend: BackendKind = .cpu

    @Option(help: ArgumentHelp("With --backend vulkan: the device's index in `vision devices` (default 0).", valueName: "N"))
    var device: Int?

    func validate() throws {
        if let device {
            guard backend == .vulkan else { throw ValidationError("--device needs --backend vulkan") }
            guard device >= 0 else { throw ValidationError("--device must be at least 0, got \(device)") }
        }
    }

    /// The Vulkan loader to open: VISION_VULKAN_LOADER, or the system's libvulkan.so.1.
    static var vulkanLoaderPath: String {
        ProcessInfo.processInfo.environment["VISION_VULKAN_LOADER"] ?? VulkanBackend.defaultLoaderPath
    }

    /// The chosen backend; `threads` is the CPU backend's. Throws a one-line error naming
    /// what is missing when Vulkan is unavailable.
    func make(threads: KernelThreads) throws -> ComputeBackend {
        switch backend {
        case .cpu:
            return CPUBackend(threads: threads,
                              instructionSet: try InstructionSet.fromEnvironment(ProcessInfo.processInfo.environment))
        case .vulkan: return try VulkanBackend(device: device ?? 0, loaderPath: Self.vulkanLoaderPath)
        }
    }
}
