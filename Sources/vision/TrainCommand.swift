// `vision train`: fine-tunes (or trains from scratch) a Faster R-CNN on a detection
// dataset on the CPU, torchvision's references/detection recipe scaled to small
// datasets. The run folder holds checkpoint.safetensors (resumable: weights, momentum,
// progress), model.safetensors (for `vision predict --checkpoint`), metrics.jsonl and
// loss_curve.png. SIGINT/SIGTERM finish the current step, save, and exit 130/143.

import ArgumentParser
import Foundation
import VisionCheckpoint
import VisionData
import VisionDetection
import VisionKernels
import VisionTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a Faster R-CNN on a dataset (Pascal VOC, COCO, CSV or YOLO layout).",
        discussion: """
            Examples:
              vision train --dataset data/bccd --checkpoint fasterrcnn_mobilenet_v3_large_320_fpn -o runs/bccd
              vision train --resume runs/bccd
            Trainable models: fasterrcnn_mobilenet_v3_large_320_fpn, fasterrcnn_mobilenet_v3_large_fpn, \
            fasterrcnn_mobilenet_v2_fpn, fasterrcnn_resnet50_fpn (v1; fine-tune torchvision's COCO checkpoint).
            Defaults: mobilenet_v3_large_320_fpn, batch 2, lr 0.0025 per image, momentum 0.9, weight decay 1e-4, \
            20 epochs, warm-up over the first epoch, lr x0.1 at ~2/3 and ~0.85 of the epochs, horizontal flips.
            """)

    @Option(help: ArgumentHelp("The dataset folder or annotation file.", valueName: "path"))
    var dataset: String?

    @Option(help: "The split to train on (default: train, else trainval, else the only split).")
    var split: String?

    @Option(help: ArgumentHelp("Architecture.", valueName: "name"))
    var model: String = "fasterrcnn_mobilenet_v3_large_320_fpn"

    @Option(help: ArgumentHelp("Starting weights (.pth or .safetensors, torchvision keys): a detector (its predictor is re-initialised for the dataset's classes) or an ImageNet classifier's state dict (features.*: the backbone only); default: from scratch.", valueName: "file"))
    var checkpoint: String?

    @Option(help: "Epochs.") var epochs: Int = 20
    @Option(help: "Images per step.") var batchSize: Int = 2
    @Option(help: "Learning rate (default: 0.0025 x batch size).") var lr: Float?
    @Option(help: "Backbone stages to train: 0-6 for the MobileNets, 0-5 for ResNet-50 (default: 3 from a checkpoint, all from scratch).") var trainableLayers: Int?
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The run folder.", valueName: "dir")) var output: String = "runs/train"
    @Option(help: ArgumentHelp("Continue the run in this folder where it stopped.", valueName: "dir")) var resume: String?
    @Option(help: "Seed of the initialisation, data order, flips and sampling.") var seed: UInt64 = 0
    @Option(help: "Shorter-side resize target (default: the model's).") var minSize: Int?
    @Option(help: "Longer-side cap (default: the model's).") var maxSize: Int?
    @Option(help: "Also checkpoint every N steps (0: only per epoch and on a signal).") var saveEvery: Int = 0
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: ArgumentHelp("Split scored after every epoch (default: val or validation when the dataset has one; 'none' to skip).",
                               valueName: "name"))
    var valSplit: String?

    func validate() throws {
        if resume == nil && dataset == nil { throw ValidationError("--dataset is required (unless --resume)") }
        if !ModelConfig.names.contains(model) {
            throw ValidationError("unknown --model '\(model)'; valid: \(ModelConfig.names.joined(separator: ", "))")
        }
        if epochs < 1 || batchSize < 1 { throw ValidationError("--epochs and --batch-size must be >= 1") }
        // The exact range depends on the backbone (checked in run() once the model is loaded).
        if let trainableLayers, !(0...6).contains(trainableLayers) { throw ValidationError("--trainable-layers must be in 0...6") }
        if let threads, threads < 1 { throw ValidationError("--threads must be >= 1") }
    }

    func run() throws {
        if let threads { setThreadCount(threads) }
        let trainer: Trainer
        if let resume {
            let run = URL(fileURLWithPath: resume)
            let loaded = try TrainingCheckpoint.load(from: run.appendingPathComponent(TrainingCheckpoint.fileName))
            let records = try loadRecords(datasetPath: dataset ?? loaded.datasetPath, classes: loaded.classes)
            let model = try TrainableFasterRCNN(config: loaded.config, stateDict: loaded.state, source: resume,
                                                trainableBackboneLayers: loaded.progress.options.trainableBackboneLayers)
            trainer = try Trainer(model: model, classes: loaded.classes, records: records.records,
                                  options: loaded.progress.options, runDirectory: run, resume: loaded)
            trainer.validation = records.validation
        } else {
            let records = try loadRecords(datasetPath: dataset!, classes: nil)
            var config = try ModelConfig.load(name: model)
            if let minSize { config.minSize = minSize }
            if let maxSize { config.maxSize = maxSize }
            config.numClasses = records.classes.count
            var state: StateDict?
            if let checkpoint { state = try loadStateDict(from: URL(fileURLWithPath: checkpoint)).0 }
            var options = TrainingOptions.defaults(epochs: epochs, batchSize: batchSize)
            if let lr { options.learningRate = lr }
            let layerRange = TrainableFasterRCNN.trainableBackboneLayerRange(config.backbone)
            if let trainableLayers, !layerRange.contains(trainableLayers) {
                throw ValidationError("--trainable-layers must be in \(layerRange.lowerBound)...\(layerRange.upperBound) for \(model)")
            }
            options.trainableBackboneLayers = trainableLayers ?? (checkpoint == nil ? layerRange.upperBound : 3)
            options.seed = seed
            options.checkpointEverySteps = saveEvery
            options.datasetPath = URL(fileURLWithPath: dataset!).standardizedFileURL.path
            let net = try TrainableFasterRCNN(config: config, stateDict: state, source: checkpoint ?? "initialisation",
                                              trainableBackboneLayers: options.trainableBackboneLayers, seed: seed)
            if state != nil, !net.parameters.initialized.isEmpty {
                let keys = net.parameters.initialized
                let list = keys.count > 8 ? keys.prefix(8).joined(separator: ", ") + ", ... (\(keys.count) in all)" : keys.joined(separator: ", ")
                FileHandle.standardError.write(Data("initialised (not taken from \(checkpoint!), \(config.numClasses) classes): \(list)\n".utf8))
            }
            trainer = try Trainer(model: net, classes: records.classes, records: records.records, options: options,
                                  runDirectory: URL(fileURLWithPath: output))
            trainer.validation = records.validation
        }
        let signals = StopSignals()
        signals.install()
        FileHandle.standardError.write(Data("training \(trainer.model.config.name) on \(trainer.records.count) images, \(trainer.classes.count - 1) classes, \(trainer.iterationsPerEpoch) steps per epoch -> \(trainer.runDirectory.path)\n".utf8))
        switch try trainer.run(signals: signals) {
        case .finished:
            FileHandle.standardError.write(Data("done: \(trainer.runDirectory.appendingPathComponent(TrainingCheckpoint.modelFileName).path)\n".utf8))
        case .stopped(let signal):
            throw ExitCode(128 + signal)
        case .interrupted:
            break
        }
    }

    /// The split's records and the class list ("__background__" first), and the validation
    /// split to score after each epoch. With `classes` (a resumed run), the dataset's class
    /// names must be the same.
    func loadRecords(datasetPath: String?, classes: [String]?) throws -> (records: [DetectionRecord], classes: [String], validation: Validation?) {
        guard let datasetPath else { throw ValidationError("the checkpoint does not name its dataset; pass --dataset") }
        let data = try DetectionDataset.load(from: URL(fileURLWithPath: datasetPath))
        var name = split ?? data.splits.first ?? "train"
        if split == nil {
            if data.splits.contains("train") { name = "train" } else if data.splits.contains("trainval") { name = "trainval" }
        }
        let all = ["__background__"] + data.classes
        if let classes, classes != all {
            throw ValidationError("\(datasetPath): classes \(data.classes) differ from the run's \(Array(classes.dropFirst()))")
        }
        var validation: Validation?
        let valName = valSplit ?? ["val", "validation"].first { data.splits.contains($0) }
        if let valName, valName != "none" {
            guard data.splits.contains(valName) else {
                throw ValidationError("\(datasetPath) has no split '\(valName)' (splits: \(data.splits.joined(separator: ", ")))")
            }
            if valName == name { throw ValidationError("--val-split '\(valName)' is the training split") }
            validation = Validation(records: try data.records(split: valName), classes: data.classes, splitName: valName)
        }
        return (try data.records(split: name), all, validation)
    }
}
