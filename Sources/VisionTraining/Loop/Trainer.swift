// The training loop of references/detection/train.py on CPU: per epoch a seeded
// shuffle, batches of `batchSize` images (flipped with p = 0.5, and augmented as the
// options ask; decoded and augmented ahead of the steps by a BackgroundLoader), SGD with momentum and
// weight decay, linear warm-up in epoch 0 then MultiStepLR; checkpoints at each epoch's
// end, every `checkpointEverySteps` steps and on SIGINT/SIGTERM.
//
// Determinism: the data order of epoch e comes from TrainingRNG(seed, stream 1, e),
// flips and sampler permutations of global step s from TrainingRNG(seed, stream 2, s),
// other augmentations from stream 3 (see StepPreparation), so a run resumed from any checkpoint replays exactly the steps an
// uninterrupted run would have taken.

import Foundation
import VisionCore
import VisionData
import VisionDetection
import VisionImaging

public final class Trainer {
    public enum Outcome: Equatable {
        case finished
        /// Stopped by a signal after saving; the process should exit 128 + signal.
        case stopped(signal: Int32)
        /// Stopped by `stopAfterSteps` without saving (a simulated kill).
        case interrupted
        /// Stopped after this epoch (1-based) by --patience: validation AP50 stopped improving.
        case stoppedEarly(epoch: Int)
    }

    public let model: any TrainableDetectionModel
    public let optimizer: SGD
    public let keys: [String]
    /// Class names with "__background__" at 0.
    public let classes: [String]
    public let records: [DetectionRecord]
    public let runDirectory: URL
    /// Threads of every kernel call, validation included (--threads).
    public let threads: KernelThreads
    public internal(set) var progress: TrainingProgress
    public let metrics: MetricsLog
    /// Scored at the end of every epoch when set (the run's validation split).
    public var validation: Validation?
    /// Progress lines (stderr by default).
    public var report: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// Images already reported as undecodable (each is reported once).
    private var reportedUndecodable: Set<URL> = []
    /// The last validation's image grid, for report.html (none until a validation in this process).
    private var validationGrid: ValidationGrid?
    /// The images of a validation not yet drawn into `validationGrid` (drawn with the report, and timed with it).
    private var pendingValidation: (images: [EvaluationImage], classes: [String])?

    /// - resume: a loaded checkpoint whose weights `model` was built from; its momentum and progress are restored,
    ///   and `options` replace its options (pass `resume.progress.options`, or those extended to more epochs).
    /// - threads: bounds every kernel call of the steps and of validation.
    public init(model: any TrainableDetectionModel, classes: [String], records: [DetectionRecord], options: TrainingOptions,
                runDirectory: URL, resume: TrainingCheckpoint.Loaded? = nil, threads: KernelThreads) throws {
        guard !records.isEmpty else { throw TrainingModelError("the training split has no images") }
        guard options.batchSize >= 1, options.epochs >= 1 else {
            throw TrainingModelError("batch size and epochs must be at least 1 (got \(options.batchSize), \(options.epochs))")
        }
        self.model = model
        self.classes = classes
        self.records = records
        self.runDirectory = runDirectory
        self.threads = threads
        let trainable = model.trainableParameters
        keys = trainable.map(\.key)
        optimizer = SGD(parameters: trainable.map(\.variable), learningRate: options.learningRate,
                        momentum: options.momentum, weightDecay: options.weightDecay)
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        let iterations = (records.count + options.batchSize - 1) / options.batchSize
        if let resume {
            progress = resume.progress
            progress.options = options
            if progress.runID == nil { progress.runID = UUID().uuidString }
            progress.stoppedEarly = nil
            for (i, key) in keys.enumerated() { optimizer.setMomentumBuffer(resume.momentum[key], at: i) }
        } else {
            var options = options
            if options.warmupSteps == nil {
                options.warmupSteps = LearningRateSchedule.warmupIterations(iterationsPerEpoch: iterations, epochs: options.epochs)
            }
            progress = TrainingProgress(epoch: 0, stepInEpoch: 0, globalStep: 0,
                                        rngState: TrainingRNG(seed: options.seed, stream: 2, index: 0).state, options: options)
            progress.runID = UUID().uuidString
        }
        metrics = try MetricsLog(directory: runDirectory, keepThroughStep: progress.globalStep)
    }

    public var options: TrainingOptions { progress.options }
    public var iterationsPerEpoch: Int { (records.count + options.batchSize - 1) / options.batchSize }

    /// What every step reads (data order, decoding, augmentation, batching), a pure function of the step.
    public var preparation: StepPreparation {
        StepPreparation(records: records, options: options, config: model.config, transform: model.transform)
    }

    /// Threads of the background loader: a quarter of the run's --threads budget, at least 1 and at most the
    /// batch size (decoding and augmenting one image takes a fraction of a step's time).
    public var loaderWorkers: Int { max(1, min(options.batchSize, threads.count / 4)) }

    public func save() throws {
        try TrainingCheckpoint.save(model: model, optimizer: optimizer, keys: keys, classes: classes,
                                    progress: progress, to: runDirectory)
    }

    /// The schedule of this run: the warm-up fixed when it started (torchvision's for
    /// checkpoints written before that was saved).
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(baseLearningRate: options.learningRate, milestones: options.milestones,
                             warmupFactor: options.warmupFactor,
                             warmupIterations: options.warmupSteps
                                 ?? LearningRateSchedule.warmupIterations(iterationsPerEpoch: iterationsPerEpoch))
    }

    /// Runs until the last epoch ends, a signal arrives, or `stopAfterSteps` steps were taken.
    public func run(signals: StopSignals? = nil, stopAfterSteps: Int? = nil) throws -> Outcome {
        let o = options
        let iterations = iterationsPerEpoch
        let schedule = self.schedule
        let totalSteps = o.epochs * iterations
        let runStart = Date()
        let firstStep = progress.globalStep
        var stepsThisRun = 0
        // Decoding and augmentation run ahead of the steps (at most two batches per worker).
        let preparation = self.preparation
        let positions = preparation.positions(epoch: progress.epoch, step: progress.stepInEpoch,
                                              globalStep: progress.globalStep, epochs: o.epochs)
        let loader = BackgroundLoader(preparation: preparation, positions: positions,
                                      workers: loaderWorkers, capacity: 2 * loaderWorkers)
        defer { loader.cancel() }
        while progress.epoch < o.epochs {
            let epoch = progress.epoch
            let epochStart = Date()
            let wholeEpochHere = progress.stepInEpoch == 0
            var stepsTaken = 0
            while progress.stepInEpoch < iterations {
                let step = progress.stepInEpoch
                let stepStart = Date()
                let prepared = loader.next()
                precondition(prepared.position == StepPosition(epoch: epoch, step: step, globalStep: progress.globalStep),
                             "Trainer: the loader is out of step")
                var rng = prepared.rng
                let skipped = prepared.undecodable.count
                for (url, reason) in prepared.undecodable where reportedUndecodable.insert(url).inserted {
                    report("warning: skipping an image that cannot be decoded (left out of every step): \(reason)")
                }
                optimizer.learningRate = schedule.learningRate(epoch: epoch, iteration: step)
                var losses: TrainingLosses?
                if let batch = prepared.batch {
                    model.zeroGrad()
                    let result = model.forwardBackward(batch, permutations: &rng, threads: threads)
                    guard result.total.isFinite else {
                        throw TrainingModelError("loss is \(result.total) at epoch \(epoch) step \(step) (\(result)); stopping")
                    }
                    optimizer.step()
                    losses = result
                    stepsTaken += 1
                }
                progress.stepInEpoch += 1
                progress.globalStep += 1
                progress.rngState = TrainingRNG(seed: o.seed, stream: 2, index: UInt64(progress.globalStep)).state
                stepsThisRun += 1

                if let losses {
                    let seconds = Date().timeIntervalSince(stepStart)
                    let perSecond = Double(prepared.imageCount - skipped) / max(seconds, 1e-9)
                    let average = Date().timeIntervalSince(runStart) / Double(progress.globalStep - firstStep)
                    let eta = average * Double(totalSteps - progress.globalStep)
                    metrics.log(IterationMetrics(epoch: epoch, step: step, globalStep: progress.globalStep,
                                                 learningRate: optimizer.learningRate, loss: losses.total,
                                                 lossObjectness: losses.objectness, lossRPNBoxReg: losses.rpnBoxRegression,
                                                 lossClassifier: losses.classifier, lossBoxReg: losses.boxRegression,
                                                 imagesPerSecond: perSecond, skippedImages: skipped))
                    report(String(format: "epoch %d/%d step %d/%d  loss %.4f (objectness %.4f rpn_box %.4f classifier %.4f box %.4f)  lr %.5f  %.2f img/s  ETA %@",
                                  epoch + 1, o.epochs, step + 1, iterations, losses.total, losses.objectness,
                                  losses.rpnBoxRegression, losses.classifier, losses.boxRegression, optimizer.learningRate,
                                  perSecond, Self.duration(eta)) + skippedNote(epoch: epoch))
                } else {
                    metrics.log(SkippedStepMetrics(epoch: epoch, step: step, globalStep: progress.globalStep, skippedImages: skipped))
                    report("epoch \(epoch + 1)/\(o.epochs) step \(step + 1)/\(iterations)  skipped: no image of the batch could be decoded"
                           + skippedNote(epoch: epoch))
                }

                if progress.stepInEpoch == iterations {
                    if wholeEpochHere && stepsTaken == 0 {
                        throw TrainingModelError("no image of the training split could be decoded in epoch \(epoch + 1); stopping")
                    }
                    progress.epoch += 1
                    progress.stepInEpoch = 0
                    let seconds = Date().timeIntervalSince(epochStart)
                    var scores: DetectionMetrics?
                    if let validation {
                        let start = Date()
                        let scored = try validation.evaluateKeepingDetections(model, threads: threads)
                        scores = scored.metrics
                        pendingValidation = (scored.images, validation.classes)
                        report(String(format: "epoch %d/%d validation (%@, %d images, %.0f s): AP %.4f  AP50 %.4f  AP75 %.4f  AR100 %.4f",
                                      epoch + 1, o.epochs, validation.splitName, validation.records.count,
                                      Date().timeIntervalSince(start), scores!.AP, scores!.AP50, scores!.AP75, scores!.AR100))
                    }
                    metrics.log(EpochMetrics(epoch: epoch, globalStep: progress.globalStep, meanLoss: metrics.meanLoss(epoch: epoch),
                                             seconds: seconds, validation: scores, skippedImages: metrics.skippedImages(epoch: epoch)))
                    let stopEarly = try keepBest(scores, epoch: epoch)
                    // Saved after the epoch's line is written: a kill during validation resumes
                    // from the previous checkpoint and replays the step, rewriting the line.
                    try save()
                    writeReport(epochSeconds: seconds)
                    if stopEarly && progress.epoch < o.epochs { return .stoppedEarly(epoch: epoch + 1) }
                } else if o.checkpointEverySteps > 0, progress.globalStep % o.checkpointEverySteps == 0 {
                    try save()
                }
                if let signal = signals?.signal, signal != 0 {
                    try save()
                    writeReport(epochSeconds: nil)
                    report("saved \(runDirectory.appendingPathComponent(TrainingCheckpoint.fileName).path) at epoch \(progress.epoch) step \(progress.stepInEpoch)")
                    return .stopped(signal: signal)
                }
                if let stopAfterSteps, stepsThisRun >= stopAfterSteps { return .interrupted }
                if progress.stepInEpoch == 0 { break }
            }
        }
        return .finished
    }

    /// Rewrites report.html and loss_curve.png from metrics.jsonl. A failure to write
    /// them is reported and training goes on: the numbers are safe in metrics.jsonl.
    func writeReport(epochSeconds: Double?) {
        let start = Date()
        if let pending = pendingValidation {
            validationGrid = ValidationGrid(images: pending.images, classes: pending.classes)
            pendingValidation = nil
        }
        let history = TrainingHistory(directory: runDirectory)
        var page = TrainingReport(history: history, options: options, classes: classes)
        if let validationGrid {
            page.validationImages = validationGrid.thumbnails
            page.validationThreshold = validationGrid.scoreThreshold
        }
        if let best = progress.bestEpoch, let ap50 = progress.bestAP50 {
            page.notes.append(String(format: "%@: epoch %d (validation AP50 %.4f); %@: the last epoch.", TrainingCheckpoint.bestFileName,
                                     best, ap50, TrainingCheckpoint.modelFileName))
        }
        if progress.stoppedEarly == true, let patience = options.patience {
            page.notes.append("Stopped early after epoch \(progress.epoch) of \(options.epochs): validation AP50 had not improved "
                              + "for \(patience) epochs (--patience \(patience)).")
        }
        page.datasetProblems = try? String(contentsOf: runDirectory.appendingPathComponent(TrainingDataReport.fileName), encoding: .utf8)
        do {
            try LossCurvePlot.write(history, to: runDirectory.appendingPathComponent(LossCurvePlot.fileName))
            try page.write(to: runDirectory, generatedIn: Date().timeIntervalSince(start))
            let seconds = Date().timeIntervalSince(start)
            report(String(format: "report %@ (written in %.2f s%@)", runDirectory.appendingPathComponent(TrainingReport.fileName).path,
                          seconds, epochSeconds.map { String(format: ", %.2f%% of the epoch's %.0f s", 100 * seconds / $0, $0) } ?? ""))
        } catch {
            report("warning: the report was not written: \(error)")
        }
    }

    /// "  (2 undecodable images skipped this epoch)", or nothing.
    func skippedNote(epoch: Int) -> String {
        let n = metrics.skippedImages(epoch: epoch)
        return n == 0 ? "" : "  (\(n) undecodable image\(n == 1 ? "" : "s") skipped this epoch)"
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
