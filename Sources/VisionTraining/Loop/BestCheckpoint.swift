// best.safetensors: the weights of the epoch with the highest validation AP50 (the first
// on ties), beside model.safetensors (the last epoch's), in the same format (`vision
// predict --checkpoint`). Written atomically like the other checkpoints; it carries the
// run's id (vision.run) and replaces only a best.safetensors with the same id, so a file
// this run did not write is never overwritten. --patience N stops the run once N epochs
// in a row have not improved on the best.

import Foundation
import VisionCheckpoint
import VisionData

extension TrainingCheckpoint {
    public static let bestFileName = "best.safetensors"
    public static let runMetadataKey = "vision.run"

    /// Writes `model` as `directory`/best.safetensors, tagged with `runID`; refuses to replace one another run wrote.
    public static func saveBest(model: any TrainableDetectionModel, classes: [String], runID: String, to directory: URL) throws {
        let url = directory.appendingPathComponent(bestFileName)
        if FileManager.default.fileExists(atPath: url.path) {
            let owner = (try? loadStateDict(from: url))?.0.metadata[runMetadataKey]
            guard owner == runID else {
                throw TrainingModelError("\(url.path) was not written by this run; not replacing it (move it away to go on)")
            }
        }
        var (weights, metadata) = try modelState(model, classes: classes)
        metadata[runMetadataKey] = runID
        weights.metadata = metadata
        try atomicWrite(weights, metadata: metadata, to: url)
    }
}

extension Trainer {
    /// After epoch `epoch` (0-based) was scored: keeps its weights as best.safetensors when
    /// its AP50 beats every earlier epoch's; returns true when --patience says to stop.
    func keepBest(_ scores: DetectionMetrics?, epoch: Int) throws -> Bool {
        guard let scores else { return false }
        let bestFile = runDirectory.appendingPathComponent(TrainingCheckpoint.bestFileName).path
        if progress.bestAP50.map({ scores.AP50 > $0 }) ?? true {
            let runID = progress.runID ?? UUID().uuidString
            progress.runID = runID
            try TrainingCheckpoint.saveBest(model: model, classes: classes, runID: runID, to: runDirectory)
            progress.bestAP50 = scores.AP50
            progress.bestEpoch = epoch + 1
            report(String(format: "epoch %d/%d is the best so far (validation AP50 %.4f): %@", epoch + 1, options.epochs,
                          scores.AP50, bestFile))
            return false
        }
        guard let patience = options.patience, let bestEpoch = progress.bestEpoch, epoch + 1 - bestEpoch >= patience else {
            return false
        }
        report(String(format: "stopping early after epoch %d/%d: validation AP50 has not improved for %d epochs "
                      + "(best %.4f at epoch %d, kept in %@)", epoch + 1, options.epochs, epoch + 1 - bestEpoch,
                      progress.bestAP50 ?? 0, bestEpoch, bestFile))
        progress.stoppedEarly = true
        return true
    }
}
