// Run checkpoints as .safetensors, written atomically (a temporary file in the same
// folder, then rename(2)), so a kill at any moment leaves the previous one intact.
//   checkpoint.safetensors  weights (torchvision keys, F32) + optimizer.<key>.momentum
//                           + metadata vision.config, vision.classes, vision.training
//   model.safetensors       weights + vision.config / vision.classes only (`vision predict`)

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection

public enum TrainingCheckpoint {
    public static let fileName = "checkpoint.safetensors"
    public static let modelFileName = "model.safetensors"
    public static let progressMetadataKey = "vision.training"
    public static let momentumPrefix = "optimizer."
    public static let momentumSuffix = ".momentum"

    /// Writes both files into `directory`.
    public static func save(model: any TrainableDetectionModel, optimizer: SGD, keys: [String], classes: [String],
                            progress: TrainingProgress, to directory: URL) throws {
        var (weights, metadata) = try modelState(model, classes: classes)
        try atomicWrite(weights, metadata: metadata, to: directory.appendingPathComponent(modelFileName))
        metadata[progressMetadataKey] = String(decoding: try sortedKeysEncoder.encode(progress), as: UTF8.self)
        for (i, key) in keys.enumerated() {
            if let buffer = optimizer.momentumBuffers[i] { weights["\(momentumPrefix)\(key)\(momentumSuffix)"] = buffer.copy() }
        }
        try atomicWrite(weights, metadata: metadata, to: directory.appendingPathComponent(fileName))
    }

    static var sortedKeysEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// The model's weights with what `vision predict` needs (vision.config, vision.classes).
    static func modelState(_ model: any TrainableDetectionModel, classes: [String]) throws -> (StateDict, [String: String]) {
        let metadata = [
            Detector.configMetadataKey: String(decoding: try sortedKeysEncoder.encode(model.config), as: UTF8.self),
            Detector.classesMetadataKey: String(decoding: try sortedKeysEncoder.encode(classes), as: UTF8.self),
        ]
        var weights = model.stateDict()
        weights.metadata = metadata
        return (weights, metadata)
    }

    static func atomicWrite(_ state: StateDict, metadata: [String: String], to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        try saveSafetensors(state, to: temporary, metadata: metadata)
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw TrainingModelError("\(url.path): cannot replace the checkpoint: \(reason)")
        }
    }

    /// What a checkpoint holds for resuming.
    public struct Loaded {
        /// The model's weights (the momentum buffers taken out).
        public var state: StateDict
        public var config: ModelConfig
        public var classes: [String]
        public var progress: TrainingProgress
        /// Momentum buffers by parameter key.
        public var momentum: [String: Tensor]
        public var datasetPath: String? { progress.options.datasetPath }
    }

    public static func load(from url: URL) throws -> Loaded {
        var (state, _) = try loadStateDict(from: url)
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            guard let json = state.metadata[key] else { throw TrainingModelError("\(url.path): no metadata \(key); not a vision training checkpoint") }
            do { return try JSONDecoder().decode(type, from: Data(json.utf8)) } catch {
                throw TrainingModelError("\(url.path): metadata \(key) unreadable: \(error)")
            }
        }
        var momentum: [String: Tensor] = [:]
        for key in state.keys where key.hasPrefix(momentumPrefix) && key.hasSuffix(momentumSuffix) {
            let name = String(key.dropFirst(momentumPrefix.count).dropLast(momentumSuffix.count))
            momentum[name] = state[key]
            // The model's weights are the rest; the name-checking loader would call these unused.
            state[key] = nil
        }
        return Loaded(state: state, config: try decode(ModelConfig.self, Detector.configMetadataKey),
                      classes: try decode([String].self, Detector.classesMetadataKey),
                      progress: try decode(TrainingProgress.self, progressMetadataKey), momentum: momentum)
    }
}
