// What `vision train` starts from: the starting weights and their architecture for a
// new run, the checkpoint and settings of a resumed one, and the dataset's records.

import ArgumentParser
import Foundation
import VisionCheckpoint
import VisionData
import VisionDetection
import VisionTraining

/// A training run that cannot start or go on, said in one line.
struct TrainError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The training split (less the images that lost objects to problems), the class list
/// ("__background__" first) and the validation split, with the names of both splits.
struct TrainingData {
    var report: TrainingDataReport
    var classes: [String]
    var validation: Validation?
    var splitName: String
    var validationSplitName: String
}

extension TrainCommand {
    /// The architecture and weights a new run starts from: --checkpoint is a file or the
    /// name of a model in the store (as for predict); its architecture is the one the
    /// checkpoint records or its keys imply, unless --model names one.
    func startingModel() throws -> (config: ModelConfig, state: StateDict?, source: String) {
        guard let checkpoint else { return (try ModelConfig.load(name: model ?? Self.defaultModel), nil, "initialisation") }
        let resolved = try CheckpointResolver.resolve(checkpoint)
        let (loaded, _) = try loadStateDict(from: resolved.url)
        let state = Detector.modelWeights(of: loaded)
        let config = try architecture(of: state, source: resolved.url.path, impliedModel: resolved.impliedModel)
        if model == nil {
            Standard.error("architecture: \(config.name) (from \(checkpoint))")
        }
        return (config, state, resolved.url.path)
    }

    func architecture(of state: StateDict, source: String, impliedModel: String?) throws -> ModelConfig {
        var requested = model ?? impliedModel
        if state.metadata[Detector.configMetadataKey] == nil {
            let keys = Set(state.keys)
            // Backbone-only weights (an ImageNet classifier's features.*) imply no detector.
            guard (try? ArchitectureInference.architecture(keys: keys, requested: nil, source: source)) != nil else {
                return try ModelConfig.load(name: requested ?? Self.defaultModel)
            }
            // Where the keys fit both MobileNetV3 variants, the 320 one (the lighter).
            let lighter = "fasterrcnn_mobilenet_v3_large_320_fpn"
            if requested == nil, (try? ArchitectureInference.architecture(keys: keys, requested: lighter, source: source)) != nil {
                requested = lighter
            }
        }
        return try Detector.modelConfig(of: state, source: source, requested: requested)
    }

    /// Continues the run in `path` with its own settings. --epochs may lengthen it and
    /// --save-every, --dataset, --split, --val-split and --threads apply; a flag that
    /// would make it another run is refused rather than ignored.
    func resumedTrainer(_ path: String) throws -> (Trainer, TrainingDataReport) {
        let run = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: run.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainError("--resume \(path): no such run folder")
        }
        let checkpointURL = run.appendingPathComponent(TrainingCheckpoint.fileName)
        guard FileManager.default.fileExists(atPath: checkpointURL.path) else {
            throw TrainError("--resume \(path): the folder holds no \(TrainingCheckpoint.fileName) (not a run folder, "
                + "or its run stopped before its first checkpoint; start it again with -o \(path) --overwrite)")
        }
        let changing = [("--model", model != nil), ("--checkpoint", checkpoint != nil), ("--batch-size", batchSize != nil),
                        ("--lr", lr != nil), ("--trainable-layers", trainableLayers != nil), ("--seed", seed != nil),
                        ("--min-size", minSize != nil), ("--max-size", maxSize != nil), ("-o", output != nil),
                        ("--overwrite", overwrite)].filter(\.1).map(\.0) + augmentation.givenFlags
        guard changing.isEmpty else {
            throw ValidationError("--resume continues \(path) with its own settings; \(changing.joined(separator: ", ")) would "
                + "change them (start a new run with -o DIR to train with other settings)")
        }
        let loaded = try TrainingCheckpoint.load(from: checkpointURL)
        var options = loaded.progress.options
        let done = loaded.progress.epoch
        if let epochs, epochs != options.epochs {
            guard epochs > options.epochs else {
                throw ValidationError("--epochs \(epochs): \(path) is a run of \(options.epochs) epochs; --resume can lengthen a run, not shorten it")
            }
            let extended = options.extended(toEpochs: epochs, currentEpoch: done)
            note("lengthening \(path) from \(options.epochs) to \(epochs) epochs (lr decay after epochs "
                + "\(Self.epochList(options.milestones)) -> \(Self.epochList(extended.milestones)): milestones passed stay, "
                + "those ahead are rescaled)")
            options = extended
        }
        if done >= options.epochs {
            throw TrainError("\(path) already finished its \(options.epochs) epochs; add --epochs N (more than \(options.epochs)) to train it longer")
        }
        if let saveEvery, saveEvery != options.checkpointEverySteps {
            note("checkpointing every \(saveEvery) steps (the run had \(options.checkpointEverySteps))")
            options.checkpointEverySteps = saveEvery
        }
        if let patience, patience != options.patience {
            note("stopping when validation AP50 has not improved for \(patience) epochs (--patience)")
            options.patience = patience
        }
        var source = try DatasetSource(recorded: options.datasetPath, images: options.datasetImages)
        if dataset != nil || images != nil {
            let given = try DatasetSource(path: dataset, images: images, annotations: annotations)
            if given.recorded.path != source?.recorded.path || given.recorded.images != source?.recorded.images {
                note("training on \(given.description) (the run started on \(source?.description ?? "an unrecorded dataset"))")
            }
            (options.datasetPath, options.datasetImages) = given.recorded
            source = given
        }
        guard let source else { throw ValidationError("the checkpoint does not name its dataset; pass --dataset") }
        for (flag, given, saved) in [("--split", split, options.trainingSplit), ("--val-split", valSplit, options.validationSplit)] {
            if let given, let saved, given != saved { note("\(flag) \(given) (the run used \(saved))") }
        }
        let data = try loadRecords(source, classes: loaded.classes,
                                   split: split ?? options.trainingSplit, validationSplit: valSplit ?? options.validationSplit)
        options.trainingSplit = data.splitName
        options.validationSplit = data.validationSplitName
        let model = try TrainableDetectionModels.make(config: loaded.config, stateDict: loaded.state, source: checkpointURL.path,
                                                      trainableBackboneLayers: options.trainableBackboneLayers)
        let trainer = try Trainer(model: model, classes: loaded.classes, records: data.report.records,
                                  options: options, runDirectory: run, resume: loaded,
                                  threads: kernelThreads(threads))
        trainer.validation = data.validation
        try data.report.write(to: run)
        return (trainer, data.report)
    }

    static func epochList(_ milestones: [Int]) -> String {
        milestones.isEmpty ? "none" : milestones.map(String.init).joined(separator: ", ")
    }

    func note(_ line: String) { Standard.error(line) }

    /// The split's records, the class list and the validation split. With `classes` (a
    /// resumed run), the dataset's class names must be the same. Images that lost objects
    /// to a problem are left out of both splits (their lost objects would count as
    /// background in training and as false positives in validation).
    func loadRecords(_ source: DatasetSource, classes: [String]?, split: String?, validationSplit: String?) throws -> TrainingData {
        let datasetPath = source.description
        let data = try source.load()
        var name = split ?? data.splits.first ?? "train"
        if split == nil {
            if data.splits.contains("train") { name = "train" } else if data.splits.contains("trainval") { name = "trainval" }
        }
        let all = ["__background__"] + data.classes
        if let classes, classes != all {
            throw ValidationError("\(datasetPath): classes \(data.classes) differ from the run's \(Array(classes.dropFirst()))")
        }
        var validation: Validation?
        let valName = validationSplit ?? ["val", "validation"].first { data.splits.contains($0) }
        if let valName, valName != "none" {
            guard data.splits.contains(valName) else {
                throw ValidationError("\(datasetPath) has no split '\(valName)' (splits: \(data.splits.joined(separator: ", ")))")
            }
            if valName == name { throw ValidationError("--val-split '\(valName)' is the training split") }
            validation = Validation(records: try data.records(split: valName).filter { $0.droppedObjects == 0 },
                                    classes: data.classes, splitName: valName)
        }
        let report = TrainingDataReport(records: try data.records(split: name), problems: data.problems)
        for line in report.summary() { note(line) }
        if report.records.isEmpty {
            throw TrainError("\(datasetPath): no image of split '\(name)' is left to train on"
                + (report.leftOut.isEmpty ? "" : " (all \(report.leftOut.count) images lost objects to the problems above)"))
        }
        return TrainingData(report: report, classes: all, validation: validation, splitName: name,
                            validationSplitName: validation == nil ? "none" : valName!)
    }
}
