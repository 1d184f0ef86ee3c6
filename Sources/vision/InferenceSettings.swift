// `vision checkpoint convert --set KEY=VALUE`: changes an inference setting in the model
// config a checkpoint carries in its metadata (vision.config), e.g. the box score and
// NMS thresholds or the proposals kept, chosen on a validation split after training,
// without retraining. Only settings that do not change the weights' meaning can be set.

import Foundation
import VisionCheckpoint
import VisionDetection

struct InferenceSetting {
    enum Kind { case count, fraction }

    /// ModelConfig's keys that only steer inference, with their kind. minSize/maxSize are
    /// the test-time resize (a model trained at one size may be run at another).
    static let settable: [String: Kind] = [
        "minSize": .count, "maxSize": .count,
        "rpnPreNMSTopNTest": .count, "rpnPostNMSTopNTest": .count, "rpnNMSThresh": .fraction, "rpnScoreThresh": .fraction,
        "boxScoreThresh": .fraction, "boxNMSThresh": .fraction, "boxDetectionsPerImage": .count,
    ]

    let key: String
    let value: Any

    /// "KEY=VALUE": counts are positive integers, thresholds numbers in [0, 1].
    init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Self.settable[parts[0]] else {
            throw InferenceSettingError("--set \(text): expected KEY=VALUE with KEY one of "
                                        + Self.settable.keys.sorted().joined(separator: ", "))
        }
        key = parts[0]
        switch kind {
        case .count:
            guard let n = Int(parts[1]), n > 0 else { throw InferenceSettingError("--set \(text): \(key) must be a positive integer") }
            value = n
        case .fraction:
            guard let x = Double(parts[1]), x >= 0, x <= 1 else {
                throw InferenceSettingError("--set \(text): \(key) must be a number from 0 to 1")
            }
            value = x
        }
    }

    /// The state dict's config with `settings` applied (checked by decoding it as a ModelConfig).
    static func apply(_ settings: [InferenceSetting], to state: inout StateDict, source: String) throws {
        guard !settings.isEmpty else { return }
        guard let json = state.metadata[Detector.configMetadataKey],
              var config = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw InferenceSettingError("\(source) carries no model config in its metadata (\(Detector.configMetadataKey)): "
                                        + "--set changes the settings of a checkpoint vision trained or converted")
        }
        for setting in settings { config[setting.key] = setting.value }
        if let minSize = config["minSize"] as? Int, let maxSize = config["maxSize"] as? Int, maxSize < minSize {
            throw InferenceSettingError("--set: maxSize \(maxSize) is smaller than minSize \(minSize)")
        }
        let data = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        _ = try JSONDecoder().decode(ModelConfig.self, from: data)
        state.metadata[Detector.configMetadataKey] = String(decoding: data, as: UTF8.self)
    }
}

struct InferenceSettingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
