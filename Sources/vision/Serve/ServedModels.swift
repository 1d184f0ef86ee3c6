// The models one `vision serve` process answers with, loaded once at start and
// chosen per request by name. A model's name is what `vision checkpoint download`
// calls it, "bccd" for the shipped Models/default.safetensors (as --checkpoint names
// it), else its file name without the extension; two checkpoints with one name get
// "-2", "-3", ...

import Foundation
import VisionCore
import VisionDetection
import VisionImaging

struct ServedModel: Sendable {
    let name: String
    let detector: Detector
    let checkpoint: String

    /// Class names a request may ask for with only_class (index 0, the background, excluded).
    var classes: [String] { ClassFilter.validNames(detector.labels) }
}

struct ServedModels: Sendable {
    /// In the order given on the command line; the first answers requests that name none.
    let all: [ServedModel]
    var defaultModel: ServedModel { all[0] }

    func named(_ name: String) -> ServedModel? { all.first { $0.name == name } }

    /// Loads every checkpoint (none given: the shipped default model). architectures:
    /// none, one for all, or one per checkpoint.
    static func load(checkpoints: [String], architectures: [String], backend: ComputeBackend) throws -> ServedModels {
        var models: [ServedModel] = []
        for (index, checkpoint) in (checkpoints.isEmpty ? [nil] : checkpoints.map(Optional.some)).enumerated() {
            let resolved = try CheckpointResolver.resolve(checkpoint)
            let architecture = architectures.count > 1 ? architectures[index] : architectures.first
            let detector = try Detector(checkpoint: resolved.url, model: architecture ?? resolved.impliedModel, backend: backend)
            let base = resolved.isShipped ? CheckpointResolver.shippedName
                : resolved.impliedModel ?? resolved.url.deletingPathExtension().lastPathComponent
            var name = base, suffix = 2
            while models.contains(where: { $0.name == name }) {
                name = "\(base)-\(suffix)"
                suffix += 1
            }
            models.append(ServedModel(name: name, detector: detector, checkpoint: resolved.url.path))
        }
        return ServedModels(all: models)
    }

    /// GET /api/v1/models: name, architecture, classes (with the colours `predict -d`
    /// draws them in, so the web page matches annotated copies), default first.
    func listingJSON() -> String {
        let entries = all.map { model -> String in
            let labels = model.detector.labels
            let classes = labels.indices.filter { $0 > 0 && labels[$0] != "N/A" }.map { id -> String in
                let color = DetectionPalette.color(forClass: id)
                let hex = String(format: "#%02x%02x%02x", color.r, color.g, color.b)
                return "{\"id\": \(id), \"name\": " + jsonStringLiteral(labels[id]) + ", \"color\": \"\(hex)\"}"
            }
            return "{\"name\": " + jsonStringLiteral(model.name) + ", \"architecture\": " + jsonStringLiteral(model.detector.architecture)
                + ", \"default\": \(model.name == defaultModel.name), \"classes\": [" + classes.joined(separator: ", ") + "]}"
        }
        return "{\"models\": [" + entries.joined(separator: ", ") + "]}"
    }
}
