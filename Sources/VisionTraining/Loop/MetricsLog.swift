// metrics.jsonl in the run folder: one JSON object per line, {"kind": "iteration", ...}
// after every step and {"kind": "epoch", ...} after every epoch.

import Foundation
import VisionData

public struct IterationMetrics: Codable, Sendable, Equatable {
    public var kind = "iteration"
    public var epoch: Int
    public var step: Int
    public var globalStep: Int
    public var learningRate: Float
    public var loss: Float
    public var lossObjectness: Float
    public var lossRPNBoxReg: Float
    public var lossClassifier: Float
    public var lossBoxReg: Float
    public var imagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case kind, epoch, step, loss
        case globalStep = "global_step", learningRate = "lr", lossObjectness = "loss_objectness"
        case lossRPNBoxReg = "loss_rpn_box_reg", lossClassifier = "loss_classifier", lossBoxReg = "loss_box_reg"
        case imagesPerSecond = "images_per_s"
    }
}

public struct EpochMetrics: Codable, Sendable, Equatable {
    public var kind = "epoch"
    public var epoch: Int
    public var globalStep: Int
    public var meanLoss: Float
    public var seconds: Double
    /// COCO metrics on the validation split after this epoch, when there is one.
    public var validation: DetectionMetrics?

    enum CodingKeys: String, CodingKey {
        case kind, epoch, seconds, validation
        case globalStep = "global_step", meanLoss = "mean_loss"
    }
}

public final class MetricsLog {
    public let url: URL
    /// Total loss of every logged iteration, by global step order (for the loss curve).
    public private(set) var losses: [Float] = []

    /// Opens `<directory>/metrics.jsonl`, keeping only the lines of steps before
    /// `keepThroughStep` (a resumed run replays the ones after it).
    public init(directory: URL, keepThroughStep: Int) throws {
        url = directory.appendingPathComponent("metrics.jsonl")
        var kept: [String] = []
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let step = object["global_step"] as? Int, step <= keepThroughStep else { continue }
                kept.append(String(line))
                if object["kind"] as? String == "iteration", let loss = object["loss"] as? Double { losses.append(Float(loss)) }
            }
        }
        try Data(kept.map { $0 + "\n" }.joined().utf8).write(to: url)
    }

    private func append<T: Encodable>(_ value: T) {
        guard let data = try? JSONEncoder().encode(value), let handle = try? FileHandle(forWritingTo: url) else { return }
        handle.seekToEndOfFile()
        handle.write(data + Data("\n".utf8))
        try? handle.close()
    }

    public func log(_ m: IterationMetrics) { losses.append(m.loss); append(m) }
    public func log(_ m: EpochMetrics) { append(m) }
}
