// What --checkpoint means: a file path; or the name of a published model already
// downloaded into the store (`vision checkpoint download NAME`); or, when absent,
// the model shipped as Models/default.safetensors.

import Foundation
import VisionDetection

enum CheckpointResolver {
    struct Resolved {
        let url: URL
        /// The architecture the name implies (a store name decides the 320/800 MobileNet choice).
        let impliedModel: String?
    }

    static func resolve(_ checkpoint: String?) throws -> Resolved {
        let fm = FileManager.default
        guard let checkpoint else {
            let shipped = ModelStore.defaultCheckpoint()
            guard fm.fileExists(atPath: shipped.path) else { throw PredictError.noDefaultModel(searched: shipped.path) }
            return Resolved(url: shipped, impliedModel: nil)
        }
        if fm.fileExists(atPath: checkpoint) { return Resolved(url: URL(fileURLWithPath: checkpoint), impliedModel: nil) }
        if let published = ModelStore.published(named: checkpoint) {
            guard published.isDownloaded else { throw PredictError.notDownloaded(name: checkpoint, path: published.storePath.path) }
            return Resolved(url: published.storePath, impliedModel: published.name)
        }
        throw PredictError.checkpointNotFound(checkpoint)
    }
}

enum PredictError: Error, CustomStringConvertible {
    case noDefaultModel(searched: String)
    case notDownloaded(name: String, path: String)
    case checkpointNotFound(String)
    case output(path: String, reason: String)
    case nothingProcessed(reason: String)

    var description: String {
        switch self {
        case let .noDefaultModel(searched):
            return "no --checkpoint given and no shipped model at \(searched). Get one with "
                + "`vision checkpoint download fasterrcnn_mobilenet_v3_large_320_fpn`, then run "
                + "`vision predict --checkpoint fasterrcnn_mobilenet_v3_large_320_fpn PATH...`"
        case let .notDownloaded(name, path):
            return "\(name) is not downloaded yet (no \(path)); run `vision checkpoint download \(name)`"
        case let .checkpointNotFound(value):
            let names = ModelStore.published().map(\.name)
            return "\(value): no such checkpoint file" + (names.isEmpty ? "" : ", nor a model name (\(names.joined(separator: ", ")))")
        case let .output(path, reason):
            return "\(path): \(reason)"
        case let .nothingProcessed(reason):
            return "no image was processed: \(reason)"
        }
    }
}
