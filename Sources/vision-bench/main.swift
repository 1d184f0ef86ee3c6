// vision-bench: end-to-end Faster R-CNN latency of vision on one image, as one
// JSON object (Tests/Benchmarks/run_benchmarks.py runs it beside PyTorch and
// ONNX Runtime, each in its own process).
//
//   vision-bench --checkpoint C.safetensors --model ARCH --image IMG.png
//                [--threads 2] [--repeats 5] [--no-profile] [--backend cpu|vulkan] [--device N]
//   VISION_CPU_ISA=generic|avx2|avx512 forces the SIMD kernels' instruction set.
//
// Reports: median latency of detect() over the repeats after one warm-up
// (decode excluded), per-stage medians, detection count, peak RSS (VmHWM), the
// FLOP/s of the backbone's convs (dense and depthwise separately, timed inside
// each conv call) and cblas_sgemm's FLOP/s on 2048^3 at the same thread count.
// Profiling reads the clock around each conv/linear call only; --no-profile
// turns it off to check that it costs nothing measurable. With --backend vulkan the
// model runs on Vulkan device N (`vision devices`) and there is no per-conv profile:
// the device runs the recorded work at each read-back, so stage times are the wall
// time until each stage's results were needed on the host.

import COpenBLAS
import Foundation
import VisionCore
import VisionDetection
import VisionImaging
import VisionKernels
import VisionVulkan

struct Options {
    var checkpoint = ""
    var model: String?
    var image = ""
    var threads = 2
    var repeats = 5
    var profile = true
    var backend = "cpu"
    var device = 0

    init(_ args: [String]) {
        var i = 1
        func value() -> String {
            guard i + 1 < args.count else { Options.usage("missing value after \(args[i])") }
            i += 1
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--checkpoint": checkpoint = value()
            case "--model": model = value()
            case "--image": image = value()
            case "--threads": threads = Int(value()) ?? 0
            case "--repeats": repeats = Int(value()) ?? 0
            case "--no-profile": profile = false
            case "--backend": backend = value()
            case "--device": device = Int(value()) ?? -1
            default: Options.usage("unknown argument \(args[i])")
            }
            i += 1
        }
        if checkpoint.isEmpty || image.isEmpty { Options.usage("--checkpoint and --image are required") }
        if threads < 1 || repeats < 1 { Options.usage("--threads and --repeats must be positive") }
        if !["cpu", "vulkan"].contains(backend) || device < 0 { Options.usage("--backend is cpu or vulkan, --device N >= 0") }
        if backend == "vulkan" { profile = false }
    }

    static func usage(_ problem: String) -> Never {
        FileHandle.standardError.write(Data("""
            vision-bench: \(problem)
            usage: vision-bench --checkpoint FILE --image FILE [--model ARCH] [--threads N] [--repeats N] [--no-profile]
                                [--backend cpu|vulkan] [--device N]

            """.utf8))
        exit(2)
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Peak resident set size of this process in MiB (VmHWM), NaN if unreadable.
func peakRSSMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }
        return (kb ?? .nan) / 1024
    }
    return .nan
}

/// cblas_sgemm GFLOP/s on n^3 with OpenBLAS's own threading at the kernels' thread count
/// (the machine's ceiling; the kernels themselves run OpenBLAS single-threaded, see
/// VisionKernels' gemm), median of 5.
func sgemmGflops(n: Int = 2048) -> Double {
    openblas_set_num_threads(Int32(options.threads))
    defer { openblas_set_num_threads(1) }  // the kernels' GEMMs set their own count in comparison mode
    let a = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    defer { a.deallocate(); b.deallocate(); c.deallocate() }
    for i in 0..<(n * n) { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
    let run = {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n),
                    1, a, Int32(n), b, Int32(n), 0, c, Int32(n))
    }
    run()
    let t = median((0..<5).map { _ in seconds(run) })
    return 2 * Double(n * n * n) / t / 1e9
}

let options = Options(CommandLine.arguments)
// As `vision` does at start-up; VISION_DEFAULT_MALLOC=1 measures glibc's defaults instead.
if ProcessInfo.processInfo.environment["VISION_DEFAULT_MALLOC"] == nil { MemoryTuning.reuseFreedMemory() }
// VISION_CPU_ISA=generic|avx2|avx512 forces the SIMD kernels' instruction set (default: the widest).
let instructionSet: InstructionSet
do {
    instructionSet = try InstructionSet.fromEnvironment(ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("vision-bench: \(error)\n".utf8))
    exit(2)
}
// VISION_UNFUSED_BLOCKS=1 runs MobileNet blocks as three convs (the comparison for the fused block).
let backend = ProfilingBackend(threads: options.threads, instructionSet: instructionSet,
                               fusesInvertedResiduals: ProcessInfo.processInfo.environment["VISION_UNFUSED_BLOCKS"] != "1")
let detector: Detector
let image: Tensor
var deviceName: String?
do {
    var compute: ComputeBackend = backend
    if options.backend == "vulkan" {
        let vulkan = try VulkanBackend(device: options.device)
        deviceName = vulkan.device.name
        compute = vulkan
    }
    detector = try Detector(checkpoint: URL(fileURLWithPath: options.checkpoint), model: options.model, backend: compute)
    image = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: options.image)).toTensor()
} catch {
    FileHandle.standardError.write(Data("vision-bench: \(error)\n".utf8))
    exit(1)
}
let model = detector.model

// Warm-up, then the timed repeats; profiling (if on) records every timed run.
var detections = model.detect([image])[0].count
var times: [Double] = []
var stageTimes: [StageTimings.Stage: [Double]] = [:]
backend.recording = options.profile
for _ in 0..<options.repeats {
    var timings = StageTimings()
    if options.profile {
        timings.stageWillBegin = { (stage: StageTimings.Stage) in backend.stage = stage }
    }
    let t = seconds { detections = model.detect([image], timings: &timings)[0].count }
    times.append(t)
    for (stage, s) in timings.seconds { stageTimes[stage, default: []].append(s) }
}
backend.recording = false
let peakRSS = peakRSSMiB()
let sgemm = sgemmGflops()

let runs = Double(options.repeats)
var stages: [String: Double] = [:]
for stage in StageTimings.Stage.allCases { stages[stage.rawValue] = median(stageTimes[stage] ?? []) }
var report: [String: Any] = [
    "runtime": "vision", "arch": detector.architecture, "image": (options.image as NSString).lastPathComponent,
    "image_size": [image.shape[image.rank - 2], image.shape[image.rank - 1]],
    "threads": options.threads, "instruction_set": instructionSet.description, "median_s": median(times), "times_s": times,
    "peak_rss_mb": peakRSS, "detections": detections, "stages_s": stages, "sgemm_gflops": sgemm,
    "backend": options.backend,
]
if let deviceName { report["device"] = deviceName }
if options.profile, let cost = backend.costs[.backbone] {
    report["backbone_conv"] = [
        "dense_gflop": cost.denseFlops / runs / 1e9,
        "dense_s": cost.denseSeconds / runs,
        "dense_gflops": cost.denseFlops / max(cost.denseSeconds, 1e-12) / 1e9,
        "depthwise_gflop": cost.depthwiseFlops / runs / 1e9,
        "depthwise_s": cost.depthwiseSeconds / runs,
        "depthwise_gflops": cost.depthwiseFlops / max(cost.depthwiseSeconds, 1e-12) / 1e9,
        "fused_gflop": cost.fusedFlops / runs / 1e9,
        "fused_s": cost.fusedSeconds / runs,
        "fused_calls": Double(cost.fusedCalls) / runs,
        "all_gflops": cost.convFlops / max(cost.convSeconds, 1e-12) / 1e9,
    ]
    var perStage: [String: [String: Double]] = [:]
    for (stage, c) in backend.costs {
        perStage[stage.rawValue] = [
            "conv_s": c.convSeconds / runs,
            "conv_gflop": c.convFlops / runs / 1e9,
            "linear_s": c.linearSeconds / runs, "linear_gflop": c.linearFlops / runs / 1e9,
        ]
    }
    report["stage_ops"] = perStage
}
let data = try! JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
print(String(decoding: data, as: UTF8.self))
