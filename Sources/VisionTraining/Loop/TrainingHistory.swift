// A run's history as metrics.jsonl records it: every logged step, every epoch's
// summary and validation scores, and the dataset lines. The report and
// loss_curve.png are drawn from this alone, so a resumed run's pictures cover the
// whole run (metrics.jsonl keeps the lines from before the resume).

import Foundation
import VisionData

public struct TrainingHistory: Sendable {
    public var iterations: [IterationMetrics] = []
    public var epochs: [EpochMetrics] = []
    public var datasets: [DatasetMetrics] = []
    /// Steps none of whose images could be decoded.
    public var skippedSteps: [SkippedStepMetrics] = []

    public init() {}

    /// Reads `<directory>/metrics.jsonl` (an empty history when there is none); a
    /// line that does not parse (a torn last line after a kill) is left out.
    public init(directory: URL) {
        let url = directory.appendingPathComponent("metrics.jsonl")
        guard let data = try? Data(contentsOf: url) else { self.init(); return }
        self.init(jsonLines: data)
    }

    public init(jsonLines data: Data) {
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let bytes = Data(line)
            guard let kind = (try? decoder.decode(Kind.self, from: bytes))?.kind else { continue }
            switch kind {
            case "iteration": if let m = try? decoder.decode(IterationMetrics.self, from: bytes) { iterations.append(m) }
            case "epoch": if let m = try? decoder.decode(EpochMetrics.self, from: bytes) { epochs.append(m) }
            case "dataset": if let m = try? decoder.decode(DatasetMetrics.self, from: bytes) { datasets.append(m) }
            case "skipped_step": if let m = try? decoder.decode(SkippedStepMetrics.self, from: bytes) { skippedSteps.append(m) }
            default: continue
            }
        }
        // A resume replays steps after its checkpoint; MetricsLog already dropped the old
        // copies, but sort so that lines appended out of order still plot left to right.
        iterations.sort { $0.globalStep < $1.globalStep }
        epochs.sort { $0.epoch < $1.epoch }
    }

    private struct Kind: Decodable { var kind: String }

    /// The epoch (0-based) of highest validation AP50, first on ties (the one best.safetensors keeps); nil without validation.
    public var bestEpoch: EpochMetrics? {
        epochs.filter { ($0.validation?.AP50 ?? -1) >= 0 }.max { a, b in
            a.validation!.AP50 != b.validation!.AP50 ? a.validation!.AP50 < b.validation!.AP50 : a.epoch > b.epoch
        }
    }

    /// A smoothing window: about a twentieth of the steps, at least 1, at most 200.
    public var smoothingWindow: Int { min(200, max(1, iterations.count / 20)) }
}
