// --threads, as the value every parallel loop of a command is given (the compute
// backend's kernels, RoIAlign, the COCO evaluator, decode checks): all cores when
// the option is left out.

import VisionCore

/// The thread count a command runs with: --threads N, or all cores when not given.
func kernelThreads(_ option: Int?) -> KernelThreads {
    option.map(KernelThreads.init) ?? .allCores
}
