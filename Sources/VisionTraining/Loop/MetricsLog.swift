// metrics.jsonl in the run folder: one JSON object per line, {"kind": "iteration", ...}
// after every step, {"kind": "epoch", ...} after every epoch, and {"kind": "dataset", ...}
// when a run starts or resumes (what the data looked like from that step on).

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
    /// Images of this step's batch that could not be decoded (left out of the step).
    public var skippedImages = 0

    enum CodingKeys: String, CodingKey {
        case kind, epoch, step, loss
        case globalStep = "global_step", learningRate = "lr", lossObjectness = "loss_objectness"
        case lossRPNBoxReg = "loss_rpn_box_reg", lossClassifier = "loss_classifier", lossBoxReg = "loss_box_reg"
        case imagesPerSecond = "images_per_s", skippedImages = "skipped_images"
    }
}

/// A step none of whose images could be decoded: no weights changed.
public struct SkippedStepMetrics: Codable, Sendable, Equatable {
    public var kind = "skipped_step"
    public var epoch: Int
    public var step: Int
    public var globalStep: Int
    public var skippedImages: Int

    enum CodingKeys: String, CodingKey {
        case kind, epoch, step
        case globalStep = "global_step", skippedImages = "skipped_images"
    }
}

/// The training data of a run (or of a resumed part of it, from `globalStep` on).
public struct DatasetMetrics: Codable, Sendable, Equatable {
    public var kind = "dataset"
    public var globalStep: Int
    /// Images trained on.
    public var images: Int
    /// Images of the split left out because objects of theirs were dropped for a problem.
    public var leftOutImages: Int
    /// Problems found reading the dataset, by kind (DatasetProblem.Kind's raw value).
    public var problems: [String: Int]

    public init(globalStep: Int, images: Int, leftOutImages: Int, problems: [String: Int]) {
        self.globalStep = globalStep
        self.images = images
        self.leftOutImages = leftOutImages
        self.problems = problems
    }

    enum CodingKeys: String, CodingKey {
        case kind, images, problems
        case globalStep = "global_step", leftOutImages = "left_out_images"
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
    /// Images of this epoch that could not be decoded and were left out of their steps.
    public var skippedImages = 0

    enum CodingKeys: String, CodingKey {
        case kind, epoch, seconds, validation
        case globalStep = "global_step", meanLoss = "mean_loss", skippedImages = "skipped_images"
    }
}

public final class MetricsLog {
    public let url: URL
    /// Total loss of every logged iteration, by global step order (for the loss curve).
    public private(set) var losses: [Float] = []
    /// The epoch of each of `losses`.
    private var lossEpochs: [Int] = []
    /// Undecodable images left out of the steps of each epoch.
    private var skippedByEpoch: [Int: Int] = [:]

    /// Opens `<directory>/metrics.jsonl`, keeping only the lines of steps before
    /// `keepThroughStep` (a resumed run replays the ones after it, and writes its own
    /// dataset line at `keepThroughStep`).
    public init(directory: URL, keepThroughStep: Int) throws {
        url = directory.appendingPathComponent("metrics.jsonl")
        var kept: [String] = []
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let step = object["global_step"] as? Int, step <= keepThroughStep else { continue }
                let kind = object["kind"] as? String
                if kind == "dataset" && step == keepThroughStep { continue }
                kept.append(String(line))
                let epoch = object["epoch"] as? Int ?? 0
                if kind == "iteration", let loss = object["loss"] as? Double {
                    losses.append(Float(loss))
                    lossEpochs.append(epoch)
                }
                if kind == "iteration" || kind == "skipped_step", let skipped = object["skipped_images"] as? Int {
                    skippedByEpoch[epoch, default: 0] += skipped
                }
            }
        }
        try Data(kept.map { $0 + "\n" }.joined().utf8).write(to: url)
    }

    /// Mean total loss of the steps of `epoch` logged so far (0 when none).
    public func meanLoss(epoch: Int) -> Float {
        let values = zip(losses, lossEpochs).filter { $0.1 == epoch }.map(\.0)
        return values.isEmpty ? 0 : values.reduce(0, +) / Float(values.count)
    }

    /// Undecodable images left out of the steps of `epoch` so far.
    public func skippedImages(epoch: Int) -> Int { skippedByEpoch[epoch] ?? 0 }

    private func append<T: Encodable>(_ value: T) {
        guard let data = try? JSONEncoder().encode(value), let handle = try? FileHandle(forWritingTo: url) else { return }
        handle.seekToEndOfFile()
        handle.write(data + Data("\n".utf8))
        try? handle.close()
    }

    public func log(_ m: IterationMetrics) {
        losses.append(m.loss)
        lossEpochs.append(m.epoch)
        skippedByEpoch[m.epoch, default: 0] += m.skippedImages
        append(m)
    }

    public func log(_ m: SkippedStepMetrics) {
        skippedByEpoch[m.epoch, default: 0] += m.skippedImages
        append(m)
    }

    public func log(_ m: EpochMetrics) { append(m) }
    public func log(_ m: DatasetMetrics) { append(m) }
}
