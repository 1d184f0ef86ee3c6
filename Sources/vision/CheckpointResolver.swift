// What --checkpoint means, wherever a checkpoint is taken (predict, eval, train):
// a file path; an alias (fast, accurate, bccd); or the name of a published model,
// downloaded into the store on first use; or, when absent, the model shipped as
// Models/default.safetensors.

import Foundation
import VisionDetection

enum CheckpointResolver {
    /// The shipped model's name.
    static let shippedName = "bccd"
    /// Luminoth-style names for the published models.
    static let aliases = ["fast": "fasterrcnn_mobilenet_v3_large_320_fpn", "accurate": "fasterrcnn_resnet50_fpn_v2"]

    struct Resolved {
        let url: URL
        /// The architecture the name implies (a store name decides the 320/800 MobileNet choice).
        let impliedModel: String?
        /// True for the shipped model, taken by default or by its name (bccd).
        var isShipped = false
    }

    /// Resolves `checkpoint`, downloading a published model that is not in the store
    /// yet (progress on stderr unless `quiet`).
    static func resolve(_ checkpoint: String?, quiet: Bool = false) throws -> Resolved {
        let fm = FileManager.default
        guard let checkpoint, checkpoint != shippedName || fm.fileExists(atPath: checkpoint) else {
            let shipped = ModelStore.defaultCheckpoint()
            guard fm.fileExists(atPath: shipped.path) else { throw PredictError.noDefaultModel(searched: shipped.path) }
            return Resolved(url: shipped, impliedModel: nil, isShipped: true)
        }
        if fm.fileExists(atPath: checkpoint) { return Resolved(url: URL(fileURLWithPath: checkpoint), impliedModel: nil) }
        if let published = ModelStore.published(named: aliases[checkpoint] ?? checkpoint) {
            if !published.isDownloaded {
                if !quiet { Standard.error("\(published.name) is not in the store yet: downloading \(published.url.absoluteString)") }
                try ModelDownload.fetch(published, quiet: quiet)
            }
            return Resolved(url: published.storePath, impliedModel: published.name)
        }
        throw PredictError.checkpointNotFound(checkpoint)
    }

    /// The stderr line predict prints when it falls back to the shipped model.
    static func shippedModelNotice(labels: [String]) -> String {
        let classes = labels.filter { $0 != "__background__" && !$0.isEmpty }
        return "using the shipped model '\(shippedName)' (\(ModelStore.defaultCheckpoint().path)): a blood-cell detector, "
            + "classes \(classes.joined(separator: ", ")). For everyday objects (80 COCO classes) pass --checkpoint accurate "
            + "(or --checkpoint fast for speed); the model is downloaded on first use"
    }
}

enum PredictError: Error, CustomStringConvertible {
    case noDefaultModel(searched: String)
    case checkpointNotFound(String)
    case output(path: String, reason: String)
    case nothingProcessed(reason: String)

    var description: String {
        switch self {
        case let .noDefaultModel(searched):
            return "no --checkpoint given and no shipped model at \(searched). Get one with "
                + "`vision checkpoint download fasterrcnn_mobilenet_v3_large_320_fpn`, then run "
                + "`vision predict --checkpoint fasterrcnn_mobilenet_v3_large_320_fpn PATH...`"
        case let .checkpointNotFound(value):
            let names = ModelStore.published().map(\.name) + CheckpointResolver.aliases.keys.sorted() + [CheckpointResolver.shippedName]
            return "\(value): no such checkpoint file, nor a model name (\(names.joined(separator: ", ")))"
        case let .output(path, reason):
            return "\(path): \(reason)"
        case let .nothingProcessed(reason):
            return "no image was processed: \(reason)"
        }
    }
}
