// `vision train`: fine-tunes (or trains from scratch) a Faster R-CNN on a detection
// dataset on the CPU, torchvision's references/detection recipe scaled to small
// datasets. The run folder holds checkpoint.safetensors (resumable: weights, momentum,
// progress), model.safetensors (for `vision predict --checkpoint`), best.safetensors
// (the epoch of best validation AP50), metrics.jsonl,
// loss_curve.png, report.html and, when the dataset has problems, dataset_problems.txt. SIGINT/SIGTERM finish the current step, save, and exit 130/143.

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
              vision train --dataset Samples/bccd --checkpoint Models/default.safetensors \\
                  --epochs 2 -o runs/blood
              vision train --resume runs/blood
              vision train --resume runs/blood --epochs 3
              vision checkpoint download fasterrcnn_mobilenet_v3_large_320_fpn
              vision train --dataset Samples/bccd -o runs/blood-320 \\
                  --checkpoint fasterrcnn_mobilenet_v3_large_320_fpn

            Trainable models: fasterrcnn_mobilenet_v3_large_320_fpn, fasterrcnn_mobilenet_v3_large_fpn, \
            fasterrcnn_mobilenet_v2_fpn, fasterrcnn_resnet50_fpn, fasterrcnn_resnet50_fpn_v2 (fine-tune torchvision's \
            COCO checkpoints). Batch norm is frozen in a body that starts from pretrained weights and live \
            (batch statistics, running statistics saved) from scratch and everywhere in resnet50_fpn_v2.
            Defaults: mobilenet_v2_fpn (or the --checkpoint's architecture), batch 2, lr 0.0025 per image, \
            momentum 0.9, weight decay 1e-4, 20 epochs, warm-up over the first epoch (at most a tenth of all steps), \
            lr x0.1 after ~2/3 and ~0.85 of the epochs (never in the first), horizontal flips, multi-scale \
            training (shorter side 0.8-1.2x the model's), photometric distortion; decoding and augmentation run \
            ahead of the steps on background threads. With a validation split, the epoch of best AP50 is kept \
            as best.safetensors beside model.safetensors (the last); --patience N stops when it has not \
            improved for N epochs.
            A folder that holds a run is never reused: -o DIR refuses one (--overwrite starts over in it), and \
            without -o the run goes to runs/train, or runs/train2, ... when that holds a run. Images that cannot \
            be decoded are skipped and counted; images that lost objects to dataset problems are left out \
            (listed in the run's dataset_problems.txt).
            """)

    @Option(help: ArgumentHelp("The dataset folder or annotation file.", valueName: "path"))
    var dataset: String?

    @Option(help: ArgumentHelp("With --annotations, instead of --dataset: the folder of images.", valueName: "dir"))
    var images: String?

    @Option(help: ArgumentHelp("With --images: VOC .xml folder, COCO .json, .csv, or YOLO labels folder.", valueName: "path"))
    var annotations: String?

    @Option(help: "The split to train on (default: train, else trainval, else the only split).")
    var split: String?

    @Option(help: ArgumentHelp("Architecture (default: the checkpoint's, else \(TrainCommand.defaultModel)).", valueName: "name"))
    var model: String?

    @Option(help: ArgumentHelp("Starting weights: a .pth or .safetensors file (torchvision keys) or the name of a model fetched with `vision checkpoint download`; a detector (its predictor is re-initialised for the dataset's classes) or an ImageNet classifier's state dict (features.*: the backbone only); default: from scratch.", valueName: "path|name"))
    var checkpoint: String?

    @Option(help: "Epochs (default: 20; with --resume, more than the run had lengthens it).") var epochs: Int?
    @Option(help: "Images per step (default: 2).") var batchSize: Int?
    @Option(help: "Learning rate (default: 0.0025 x batch size).") var lr: Float?
    @Option(help: "Backbone stages to train: 0-6 for the MobileNets, 0-5 for ResNet-50 (default: 3 from a checkpoint, all from scratch).") var trainableLayers: Int?
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The run folder (default: runs/train, or runs/train2, ... when that holds a run).", valueName: "dir")) var output: String?
    @Flag(help: "Start over in an -o folder that holds a run (its checkpoints and metrics are replaced).") var overwrite = false
    @Option(help: ArgumentHelp("Continue the run in this folder where it stopped, with its own settings (--epochs may lengthen it; flags that would change it are refused).", valueName: "dir")) var resume: String?
    @Option(help: "Seed of the initialisation, data order, augmentations and sampling (default: 0).") var seed: UInt64?
    @Option(help: "Shorter-side resize target (default: the model's).") var minSize: Int?
    @Option(help: "Longer-side cap (default: the model's).") var maxSize: Int?
    @Option(help: "Also checkpoint every N steps (default: 0, only per epoch and on a signal).") var saveEvery: Int?
    @Option(help: "Threads for training steps and validation (default: all cores).") var threads: Int?
    @Option(help: ArgumentHelp("Split scored after every epoch (default: val or validation when the dataset has one; 'none' to skip).",
                               valueName: "name"))
    var valSplit: String?
    @OptionGroup var augmentation: TrainAugmentationOptions
    @Option(help: "Stop when validation AP50 has not improved for N epochs (default: never).") var patience: Int?

    static let defaultModel = "fasterrcnn_mobilenet_v2_fpn"
    static let defaultOutput = "runs/train"

    func validate() throws {
        if resume == nil || images != nil || annotations != nil {
            _ = try DatasetSource(path: dataset, images: images, annotations: annotations, pathOption: "--dataset (or --resume)")
        }
        if let model, !ModelConfig.names.contains(model) {
            throw ValidationError("unknown --model '\(model)'; valid: \(ModelConfig.names.joined(separator: ", "))")
        }
        if (epochs ?? 1) < 1 || (batchSize ?? 1) < 1 { throw ValidationError("--epochs and --batch-size must be >= 1") }
        // The exact range depends on the backbone (checked in run() once the model is loaded).
        if let trainableLayers, !(0...6).contains(trainableLayers) { throw ValidationError("--trainable-layers must be in 0...6") }
        if let threads, threads < 1 { throw ValidationError("--threads must be >= 1") }
        if let saveEvery, saveEvery < 0 { throw ValidationError("--save-every must be >= 0") }
        try augmentation.validate()
        if let patience, patience < 1 { throw ValidationError("--patience must be >= 1") }
        if overwrite && output == nil { throw ValidationError("--overwrite needs -o DIR (the default run folder is never reused)") }
    }

    func run() throws {
        let (trainer, data) = try resume.map { try resumedTrainer($0) } ?? newTrainer()
        // Recorded at the step this process starts from: a resumed run may read a changed dataset.
        trainer.metrics.log(data.metrics(globalStep: trainer.progress.globalStep))
        let signals = StopSignals()
        signals.install()
        Standard.error("training \(trainer.model.config.name) on \(trainer.records.count) images, \(trainer.classes.count - 1) classes, \(trainer.iterationsPerEpoch) steps per epoch -> \(trainer.runDirectory.path)")
        switch try trainer.run(signals: signals) {
        case .finished:
            Standard.error("done: \(trainer.runDirectory.appendingPathComponent(TrainingCheckpoint.modelFileName).path)"
                + (trainer.progress.bestEpoch.map { " (best epoch \($0): \(trainer.runDirectory.appendingPathComponent(TrainingCheckpoint.bestFileName).path))" } ?? ""))
        case .stoppedEarly(let epoch):
            Standard.error("stopped early after epoch \(epoch) (--patience): best \(trainer.runDirectory.appendingPathComponent(TrainingCheckpoint.bestFileName).path), last \(trainer.runDirectory.appendingPathComponent(TrainingCheckpoint.modelFileName).path)")
        case .stopped(let signal):
            throw ExitCode(128 + signal)
        case .interrupted:
            break
        }
    }

    /// A new run: the dataset, the starting weights and architecture, a run folder of its own.
    func newTrainer() throws -> (Trainer, TrainingDataReport) {
        let dataSource = try DatasetSource(path: dataset, images: images, annotations: annotations)
        let data = try loadRecords(dataSource, classes: nil, split: split, validationSplit: valSplit)
        var (config, state, source) = try startingModel()
        if let minSize { config.minSize = minSize }
        if let maxSize { config.maxSize = maxSize }
        config.numClasses = data.classes.count
        var options = TrainingOptions.defaults(epochs: epochs ?? 20, batchSize: batchSize ?? 2)
        if let lr { options.learningRate = lr }
        let layerRange = TrainableDetectionModels.trainableBackboneLayerRange(config.backbone)
        if let trainableLayers, !layerRange.contains(trainableLayers) {
            throw ValidationError("--trainable-layers must be in \(layerRange.lowerBound)...\(layerRange.upperBound) for \(config.name)")
        }
        options.trainableBackboneLayers = trainableLayers ?? (state == nil ? layerRange.upperBound : 3)
        options.seed = seed ?? 0
        options.checkpointEverySteps = saveEvery ?? 0
        augmentation.apply(to: &options, minSize: config.minSize)
        options.patience = patience
        (options.datasetPath, options.datasetImages) = dataSource.recorded
        options.trainingSplit = data.splitName
        options.validationSplit = data.validationSplitName
        // A new run: a --checkpoint is a pretrained start, its body's batch norms frozen as torchvision's.
        let net = try TrainableDetectionModels.make(config: config, stateDict: state, source: source,
                                                    trainableBackboneLayers: options.trainableBackboneLayers, seed: options.seed,
                                                    continuesLiveBatchNorm: false)
        if state != nil, !net.parameters.initialized.isEmpty {
            let keys = net.parameters.initialized
            let list = keys.count > 8 ? keys.prefix(8).joined(separator: ", ") + ", ... (\(keys.count) in all)" : keys.joined(separator: ", ")
            Standard.error("initialised (not taken from \(source), \(config.numClasses) classes): \(list)")
        }
        let runDirectory = try claimRunFolder()
        do {
            let trainer = try Trainer(model: net, classes: data.classes, records: data.report.records, options: options,
                                      runDirectory: runDirectory, threads: kernelThreads(threads))
            try data.report.write(to: runDirectory)
            trainer.validation = data.validation
            return (trainer, data.report)
        } catch {
            RunFolder.release(runDirectory)
            throw error
        }
    }

    /// The -o folder, refused when it holds a run (unless --overwrite); without -o, the
    /// first of runs/train, runs/train2, ... that holds none.
    func claimRunFolder() throws -> URL {
        if let output {
            try RunFolder.claim(URL(fileURLWithPath: output), overwrite: overwrite)
            return URL(fileURLWithPath: output)
        }
        let chosen = try RunFolder.claimNextFree(base: Self.defaultOutput)
        if chosen != Self.defaultOutput {
            Standard.error("run folder: \(chosen) (\(Self.defaultOutput) holds a run; pass -o to choose)")
        }
        return URL(fileURLWithPath: chosen)
    }
}
