import Foundation

/// Wall-clock seconds per pipeline stage of one `FasterRCNN.detect` call, for
/// profiling (vision-bench). Pass a pointer to one to `detect(_:trace:timings:)`;
/// with none passed, `detect` reads no clock.
public struct StageTimings: Sendable {
    /// The stages in pipeline order.
    public enum Stage: String, CaseIterable, Sendable {
        /// Normalise, resize, pad into a batch.
        case transform
        /// Backbone body (ResNet-50 or MobileNetV3-Large), before the FPN.
        case backbone
        case fpn
        /// RPN head convs, anchor decode, top-k, NMS.
        case rpn
        /// MultiScaleRoIAlign of the proposals.
        case roiAlign
        /// Box head (fc6/fc7 or convs + fc) and the predictor's two linears + softmax.
        case boxHead
        /// Per-class decode, score threshold, NMS, mapping to original pixels.
        case postprocess
    }

    /// Seconds per stage (missing: stage did not run).
    public var seconds: [Stage: Double] = [:]
    /// Called as each stage begins (e.g. to attribute backend calls to stages).
    public var stageWillBegin: (@Sendable (Stage) -> Void)?

    public init(stageWillBegin: (@Sendable (Stage) -> Void)? = nil) {
        self.stageWillBegin = stageWillBegin
    }

    /// Sum over the stages.
    public var total: Double { seconds.values.reduce(0, +) }
}

/// Times consecutive stages into an optional `StageTimings`; a no-op without one.
struct StageClock {
    private let timings: UnsafeMutablePointer<StageTimings>?
    private var current: StageTimings.Stage?
    private var start: UInt64 = 0

    init(_ timings: UnsafeMutablePointer<StageTimings>?) {
        self.timings = timings
    }

    /// Ends the running stage (if any) and starts `stage`.
    @inline(__always)
    mutating func begin(_ stage: StageTimings.Stage) {
        guard let timings else { return }
        end()
        timings.pointee.stageWillBegin?(stage)
        current = stage
        start = DispatchTime.now().uptimeNanoseconds
    }

    /// Ends the running stage, adding its time.
    @inline(__always)
    mutating func end() {
        guard let timings, let stage = current else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9
        timings.pointee.seconds[stage, default: 0] += elapsed
        current = nil
    }
}
