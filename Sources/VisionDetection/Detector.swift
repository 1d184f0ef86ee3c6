import Foundation
import VisionCheckpoint
import VisionCore
import VisionImaging

/// One detected object, in the JSON Lines contract of `vision predict`
/// (Luminoth's `lumi predict` fields plus `label_id`).
public struct DetectedObject: Codable, Sendable, Equatable {
    /// x1, y1, x2, y2 in original-image pixels (not rounded).
    public var bbox: [Float]
    public var label: String
    public var labelId: Int
    public var prob: Float

    enum CodingKeys: String, CodingKey {
        case bbox, label, prob
        case labelId = "label_id"
    }

    public init(bbox: [Float], label: String, labelId: Int, prob: Float) {
        self.bbox = bbox
        self.label = label
        self.labelId = labelId
        self.prob = prob
    }
}

/// The library entry point:
///
///     let detector = try Detector(checkpoint: url)
///     let objects = try detector.detect(contentsOf: imageURL)
public final class Detector: @unchecked Sendable {
    /// safetensors metadata keys written by `vision train` (JSON values).
    public static let configMetadataKey = "vision.config"
    public static let classesMetadataKey = "vision.classes"

    public let model: any DetectionModel
    /// Class names by class index; index 0 is the background.
    public let labels: [String]
    public let architecture: String
    public let checkpoint: URL
    public let format: CheckpointFormat

    /// Loads a torchvision checkpoint (.pth zip or legacy, .safetensors) or one of
    /// vision's own (a training checkpoint's momentum buffers are left out). The architecture comes from the keys (`model` picks where the
    /// keys allow two), the class count from the classifier's shape.
    public init(checkpoint: URL, model requested: String? = nil, backend: ComputeBackend = CPUBackend(),
                modelDirectory: URL = ModelDirectory.url) throws {
        let (loaded, format) = try loadStateDict(from: checkpoint)
        let state = Detector.modelWeights(of: loaded)
        let config = try Detector.modelConfig(of: state, source: checkpoint.path, requested: requested,
                                              modelDirectory: modelDirectory)
        self.model = try DetectionModels.make(config: config, stateDict: state, source: checkpoint.path, backend: backend)
        self.architecture = config.name
        self.checkpoint = checkpoint
        self.format = format
        self.labels = try Detector.classNames(metadata: state.metadata, numClasses: model.config.numClasses, source: checkpoint.path)
    }

    /// The architecture of a checkpoint's weights: the model definition in its
    /// `vision.config` metadata (a checkpoint `vision train` wrote), else the one its keys
    /// imply (`requested` picks where the keys allow two), from `modelDirectory`.
    public static func modelConfig(of state: StateDict, source: String, requested: String?,
                                   modelDirectory: URL = ModelDirectory.url) throws -> ModelConfig {
        if let json = state.metadata[configMetadataKey] {
            let config: ModelConfig
            do {
                config = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
            } catch {
                throw DetectionError.badModelDefinition(file: source, reason: "metadata \(configMetadataKey): \(error)")
            }
            if let requested, requested != config.name {
                throw DetectionError.cannotInferArchitecture(
                    file: source, reason: "--model \(requested) was asked for, but the checkpoint says \(config.name)")
            }
            return config
        }
        let name = try ArchitectureInference.architecture(keys: Set(state.keys), requested: requested, source: source)
        return try ModelConfig.load(name: name, from: modelDirectory)
    }

    /// Class names (index 0 the background) a checkpoint's metadata and class count
    /// imply: `vision.classes` metadata, else COCO's for 91 classes, else `class_<i>`.
    public static func classNames(metadata: [String: String], numClasses: Int, source: String) throws -> [String] {
        if let json = metadata[classesMetadataKey] {
            guard let names = try? JSONDecoder().decode([String].self, from: Data(json.utf8)), names.count == numClasses else {
                throw DetectionError.badLabels(file: source, reason: "metadata \(classesMetadataKey) is not a list of \(numClasses) class names")
            }
            return names
        }
        if numClasses == cocoCategoryNames.count { return cocoCategoryNames }
        return ["__background__"] + (1..<max(numClasses, 1)).map { "class_\($0)" }
    }

    /// Objects with prob >= minProb, at most maxDetections, sorted by prob descending.
    public func detect(_ image: RGBImage, minProb: Float = 0.5, maxDetections: Int = 100,
                       keepClass: (Int) -> Bool = { _ in true }) -> [DetectedObject] {
        objects(from: model.detect([image.toTensor()])[0], minProb: minProb, maxDetections: maxDetections, keepClass: keepClass)
    }

    public func detect(contentsOf url: URL, minProb: Float = 0.5, maxDetections: Int = 100) throws -> [DetectedObject] {
        detect(try ImageDecoder.decode(contentsOf: url), minProb: minProb, maxDetections: maxDetections)
    }

    /// Converts raw detections (already score-sorted) to objects, filtered.
    public func objects(from detections: Detections, minProb: Float, maxDetections: Int,
                        keepClass: (Int) -> Bool = { _ in true }) -> [DetectedObject] {
        var out: [DetectedObject] = []
        for i in 0..<detections.count where detections.scores[i] >= minProb && keepClass(detections.labels[i]) {
            guard out.count < maxDetections else { break }
            let b = detections.boxes[i]
            let id = detections.labels[i]
            out.append(DetectedObject(bbox: [b.x1, b.y1, b.x2, b.y2], label: id < labels.count ? labels[id] : "class_\(id)",
                                      labelId: id, prob: detections.scores[i]))
        }
        return out
    }
}
