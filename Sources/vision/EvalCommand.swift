// `vision eval`: COCO AP/AR (pycocotools' COCOeval, bbox), per-class AP50 and
// VOC07 mAP of detections on a dataset split, either read from a `vision
// predict` JSON Lines file or produced here by running a checkpoint.

import ArgumentParser
import Foundation
import VisionCore
import VisionData
import VisionDetection
import VisionImaging

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score detections on a dataset split: COCO AP/AR, per-class AP50, VOC07 mAP.",
        discussion: """
            With --predictions, images are matched to the dataset by file name (basename) and classes by \
            name. With --checkpoint (or neither option: the shipped default model), the model runs on the \
            split's images keeping up to 100 detections per image at any score, as COCO evaluation expects; \
            a predictions file whose lowest probability, over 5 or more images, is 0.1 or more looks thresholded (AP comes out too \
            low) and gets a warning: predict with --min-prob 0. Instead of --dataset, --images DIR \
            --annotations PATH name the parts of a layout not detected from one path.

            --report DIR also writes report.html (self-contained: open it in any browser) and PNGs: \
            precision-recall curves per class at IoU 0.5 and 0.75, the confusion matrix at the score threshold \
            of best F1, AP50 per class, and the images with the most missed objects. DIR must be new, empty, or \
            an earlier eval report's folder (which is then replaced); a folder holding other files is refused.

            Examples:
              vision eval --dataset Samples/bccd --split test
              vision eval --dataset Samples/bccd --split test --report bccd-eval-report
            """)

    @Option(help: ArgumentHelp("The dataset folder or annotation file (see `vision dataset inspect --help`).", valueName: "path"))
    var dataset: String?

    @Option(help: ArgumentHelp("The images folder, with --annotations, instead of --dataset.", valueName: "dir"))
    var images: String?

    @Option(help: ArgumentHelp("Pascal VOC .xml folder, COCO .json, .csv, or YOLO labels folder, with --images.", valueName: "path"))
    var annotations: String?

    @Option(help: "The split to score (default: test, or the only split).")
    var split: String?

    @Option(help: ArgumentHelp("JSON Lines written by `vision predict` to score.", valueName: "file"))
    var predictions: String?

    @Option(help: ArgumentHelp("A .pth or .safetensors file, a published model's name or alias (downloaded on first use), or bccd, to run on the split.", valueName: "path|name"))
    var checkpoint: String?

    @Option(help: ArgumentHelp("Architecture, where the checkpoint's keys allow two.", valueName: "name"))
    var model: String?

    @Option(help: ArgumentHelp("Write the metrics as JSON here (an existing file only if an earlier eval wrote it, or with --overwrite).",
                               valueName: "file"))
    var output: String?

    @Flag(help: "Replace an existing --output file that is not an earlier eval's metrics.")
    var overwrite = false

    @Option(help: ArgumentHelp("Also write report.html and PNGs (PR curves, confusion matrix, AP50 bars, worst images) "
                               + "into this folder: a new or empty one, or an earlier eval report's.", valueName: "dir"))
    var report: String?

    @Option(help: "Threads for the model and the COCO evaluator (default: all cores).")
    var threads: Int?

    @OptionGroup var compute: BackendOption

    @Flag(help: "No progress on standard error.")
    var quiet = false

    func validate() throws {
        if predictions != nil && (checkpoint != nil || model != nil) {
            throw ValidationError("use either --predictions or --checkpoint/--model, not both")
        }
        if let model, !ModelConfig.names.contains(model) {
            throw ValidationError("unknown --model '\(model)'; valid: \(ModelConfig.names.joined(separator: ", "))")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be >= 1") }
        _ = try source()
    }

    private func source() throws -> DatasetSource {
        try DatasetSource(path: dataset, images: images, annotations: annotations, pathOption: "--dataset PATH")
    }

    /// --output never replaces a file this command did not write: an existing file must
    /// hold an earlier eval's metrics (a JSON object with "AP50" and "per_class_AP50").
    static func checkOutput(_ path: String, overwrite: Bool) throws {
        guard FileManager.default.fileExists(atPath: path), !overwrite else { return }
        let object = (try? Data(contentsOf: URL(fileURLWithPath: path)))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        guard let object, object["AP50"] != nil, object["per_class_AP50"] != nil else {
            throw EvalError(message: "\(path) exists and is not metrics written by vision eval; refusing to overwrite it "
                + "(choose another --output, or pass --overwrite)")
        }
    }

    func run() throws {
        // Saved predictions need no pixels; running the model does.
        let source = try source()
        // Checked before the slow part: a folder holding other files is refused up front.
        let reportFolder = report.map {
            ReportFolder(url: URL(fileURLWithPath: $0), generator: EvalReport.generator, isReportFile: EvalReport.isReportFile)
        }
        try reportFolder?.prepare()
        if let output { try Self.checkOutput(output, overwrite: overwrite) }
        // Ground truth as written: every box pycocotools would count, border-passing and
        // zero-area ones included (training clips or drops them instead).
        let data = try source.load(requireImages: predictions == nil, boxes: .asGiven)
        let splitName = try split ?? data.defaultEvaluationSplit()
        let records = try data.records(split: splitName)
        for note in data.notes { Standard.error("note: \(note)") }
        if !data.problems.isEmpty {
            let asWritten = data.problems.filter { [.boxClipped, .boxOutOfBounds, .zeroAreaBox].contains($0.kind) }.count
            warn("\(data.problems.count) dataset problem(s) (see `vision dataset inspect \(source.description)`)"
                 + (asWritten > 0 ? "; \(asWritten) box(es) past the image border or without area are scored as written, as pycocotools does" : ""))
        }
        let images: [EvaluationImage]
        if let predictions {
            images = try scorePredictions(file: predictions, records: records, classes: data.classes)
        } else {
            images = try runModel(records: records, classes: data.classes)
        }
        let (metrics, coco) = DetectionMetrics.evaluate(images, classes: data.classes, threads: kernelThreads(threads))
        let summary = "\(data.format.rawValue) dataset \(source.description), split \(splitName): \(records.count) images, "
            + "\(records.reduce(0) { $0 + $1.boxes.count }) boxes, \(images.reduce(0) { $0 + $1.detections.count }) detections"
        print(summary)
        print(metrics.table(classes: data.classes))
        if let output {
            do {
                try (metrics.jsonData() + Data("\n".utf8)).write(to: URL(fileURLWithPath: output))
            } catch {
                throw EvalError(message: "\(output): cannot write the metrics (\(error.localizedDescription))")
            }
        }
        if let reportFolder {
            let source = predictions.map { "predictions \($0)" } ?? "checkpoint \(checkpoint ?? "the default model")"
            try EvalReport(images: images, classes: data.classes, metrics: metrics, coco: coco,
                           summary: summary + "; " + source).write(to: reportFolder)
            Standard.error("report: \(reportFolder.url.appendingPathComponent("report.html").path)")
        }
    }

    private func scorePredictions(file: String, records: [DetectionRecord], classes: [String]) throws -> [EvaluationImage] {
        let lines = try PredictionFile.read(URL(fileURLWithPath: file))
        // Not in --output: metrics.json keeps its documented keys.
        if let lowest = PredictionFile.apparentScoreThreshold(lines) {
            warn("\(file) looks thresholded (its lowest probability is \(String(format: "%.3f", lowest)), the model's own floor is "
                 + "\(PredictionFile.modelScoreFloor)): AP is underestimated; predict with --min-prob 0 to score every detection")
        }
        let matched = PredictionFile.match(lines, records: records, classes: classes)
        if matched.images.count == matched.imagesWithoutPredictions.count && !records.isEmpty {
            throw EvalError(message: "\(file): no line names an image of the split (images are matched by file name)")
        }
        if !matched.imagesWithoutPredictions.isEmpty {
            warn("\(matched.imagesWithoutPredictions.count) image(s) have no line in \(file) and count as without detections, "
                 + "e.g. \(matched.imagesWithoutPredictions.prefix(3).joined(separator: ", "))")
        }
        if !matched.unmatchedFiles.isEmpty {
            warn("\(matched.unmatchedFiles.count) line(s) name images outside the split and were ignored")
        }
        for (label, count) in matched.unknownLabels.sorted(by: { $0.key < $1.key }) {
            warn("\(count) detection(s) labelled '\(label)', not a dataset class, were ignored")
        }
        return matched.images
    }

    private func runModel(records: [DetectionRecord], classes: [String]) throws -> [EvaluationImage] {
        let backend = try compute.make(threads: kernelThreads(threads))
        let resolved = try CheckpointResolver.resolve(checkpoint)
        let detector = try Detector(checkpoint: resolved.url, model: model ?? resolved.impliedModel, backend: backend)
        let labelMap = try Self.labelMap(modelLabels: detector.labels, classes: classes, checkpoint: resolved.url.path)
        var images: [EvaluationImage] = []
        let progress = ProgressReporter(total: records.count, quiet: quiet)
        for (i, record) in records.enumerated() {
            let picture = try ImageDecoder.decode(contentsOf: record.imageURL)
            let objects = detector.detect(picture, minProb: 0, maxDetections: 100)
            let detections = objects.compactMap { o -> ScoredDetection? in
                guard o.labelId < labelMap.count, let label = labelMap[o.labelId] else { return nil }
                return ScoredDetection(box: BoundingBox(x1: Double(o.bbox[0]), y1: Double(o.bbox[1]), x2: Double(o.bbox[2]), y2: Double(o.bbox[3])),
                                       label: label, score: Double(o.prob))
            }
            images.append(EvaluationImage(groundTruth: record, detections: detections))
            progress.update(done: i + 1)
        }
        progress.finish()
        return images
    }

    /// Model class index -> dataset label, by name; when no name matches and the
    /// counts agree (a checkpoint without class names), by position.
    static func labelMap(modelLabels: [String], classes: [String], checkpoint: String) throws -> [Int?] {
        var byName = modelLabels.map { name in classes.firstIndex(of: name).map { $0 + 1 } }
        if byName.indices.contains(0) { byName[0] = nil }  // the background
        if byName.contains(where: { $0 != nil }) { return byName }
        if modelLabels.count == classes.count + 1 && !classes.isEmpty {
            warn("the checkpoint's class names (\(modelLabels.dropFirst().prefix(3).joined(separator: ", ")), ...) match no dataset "
                 + "class; mapping by position to \(classes.joined(separator: ", "))")
            return [nil] + (1...classes.count).map { Optional($0) }
        }
        throw EvalError(message: "\(checkpoint): none of the model's \(modelLabels.count - 1) classes is a dataset class "
                              + "(\(classes.joined(separator: ", ")))")
    }
}

/// A failure found while running (not a usage mistake), printed without the usage text.
struct EvalError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

private func warn(_ message: String) {
    Standard.error("warning: \(message)")
}
