// report.html in the run folder, rewritten after every epoch: the loss components
// (raw and smoothed) over steps, the learning rate, validation AP/AP50/AR100 over
// epochs with the best epoch marked, images per second, the run's configuration and
// dataset summary, and validation images with predictions against ground truth.
// Numbers come from metrics.jsonl only (TrainingHistory); the page is self-contained.

import Foundation
import VisionData
import VisionImaging
import VisionPlot

public struct TrainingReport {
    public static let fileName = "report.html"

    public var history: TrainingHistory
    public var options: TrainingOptions
    /// Class names, "__background__" first.
    public var classes: [String]
    /// Thumbnails of the last validation (JPEG bytes, caption), drawn by `validationGrid`.
    public var validationImages: [(jpeg: Data, caption: String)] = []
    public var validationThreshold: Double?
    /// `<run folder>/dataset_problems.txt`, when the dataset had problems.
    public var datasetProblems: String?
    /// Lines about the run shown under the summary (the best checkpoint, an early stop).
    public var notes: [String] = []

    public init(history: TrainingHistory, options: TrainingOptions, classes: [String]) {
        self.history = history
        self.options = options
        self.classes = classes
    }

    /// The numbers the page plots, in metrics.jsonl's units (embedded as JSON).
    struct PlottedData: Encodable {
        struct Epoch: Encodable {
            var epoch: Int, mean_loss: Float, seconds: Double, AP: Double?, AP50: Double?, AR100: Double?
        }
        var global_step: [Int], loss: [Float], loss_objectness: [Float], loss_rpn_box_reg: [Float]
        var loss_classifier: [Float], loss_box_reg: [Float], lr: [Float], images_per_s: [Double]
        var epochs: [Epoch]
        var best_epoch: Int?
    }

    var plotted: PlottedData {
        let it = history.iterations
        return PlottedData(global_step: it.map(\.globalStep), loss: it.map(\.loss), loss_objectness: it.map(\.lossObjectness),
                           loss_rpn_box_reg: it.map(\.lossRPNBoxReg), loss_classifier: it.map(\.lossClassifier),
                           loss_box_reg: it.map(\.lossBoxReg), lr: it.map(\.learningRate), images_per_s: it.map(\.imagesPerSecond),
                           epochs: history.epochs.map {
                               .init(epoch: $0.epoch + 1, mean_loss: $0.meanLoss, seconds: $0.seconds,
                                     AP: $0.validation?.AP, AP50: $0.validation?.AP50, AR100: $0.validation?.AR100)
                           },
                           best_epoch: history.bestEpoch.map { $0.epoch + 1 })
    }

    public func html(generatedIn seconds: Double? = nil) -> String {
        var page = HTMLPage(title: "vision train report", generator: "vision train report")
        let done = history.epochs.count
        page.paragraph("\(done) of \(options.epochs) epochs, \(history.iterations.last?.globalStep ?? 0) steps; "
                       + "classes: \(classes.dropFirst().joined(separator: ", ")). Built from metrics.jsonl.", className: "sub")
        for note in notes { page.paragraph(note) }
        page.heading("Loss")
        page.chart(LossCurvePlot.chart(history, width: 900, height: 360).scene())
        page.charts(componentCharts())
        page.heading("Learning rate and speed")
        page.charts([stepChart(title: "learning rate", yLabel: "lr", values: history.iterations.map { Double($0.learningRate) },
                               smoothed: false),
                     stepChart(title: "images per second", yLabel: "images/s",
                               values: history.iterations.map(\.imagesPerSecond), smoothed: true)])
        page.heading("Validation")
        if history.epochs.contains(where: { $0.validation != nil }) {
            page.chart(validationChart().scene())
        } else {
            page.paragraph("No validation scores yet (none after an epoch, or the run has no validation split).")
        }
        page.table(header: ["epoch", "mean loss", "seconds", "AP", "AP50", "AP75", "AR100", "skipped images"], rows: history.epochs.map { e in
            func f(_ v: Double?) -> String { v.map { $0 < 0 ? "n/a" : String(format: "%.4f", $0) } ?? "" }
            let best = history.bestEpoch?.epoch == e.epoch ? " (best)" : ""
            return ["\(e.epoch + 1)\(best)", String(format: "%.4f", e.meanLoss), String(format: "%.1f", e.seconds),
                    f(e.validation?.AP), f(e.validation?.AP50), f(e.validation?.AP75), f(e.validation?.AR100), "\(e.skippedImages)"]
        })
        if !validationImages.isEmpty {
            page.heading("Validation images after epoch \(done)")
            page.paragraph("Solid outline: a detection that found an object (\"class score\"); dashed outline, \"FP\": "
                           + "a false positive; black-edged outline, \"MISS\": an object no detection found. IoU 0.5, "
                           + String(format: "score >= %.2f (the threshold of best F1 on the validation split).", validationThreshold ?? 0))
            page.imageGrid(validationImages.map { ($0.jpeg, "image/jpeg", $0.caption) })
        }
        page.heading("Configuration")
        page.table(header: ["option", "value"], rows: configurationRows(), numericFrom: 2)
        page.heading("Dataset")
        page.table(header: ["from step", "images trained on", "images left out", "problems"], rows: history.datasets.map { d in
            let problems = d.problems.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return ["\(d.globalStep)", "\(d.images)", "\(d.leftOutImages)", problems.isEmpty ? "none" : problems]
        }, numericFrom: 0)
        if let datasetProblems { page.preformatted(datasetProblems) }
        if let seconds { page.paragraph(String(format: "Report written in %.3f s.", seconds), className: "sub") }
        if let json = try? JSONEncoder().encode(plotted) { page.data(json) }
        return page.html()
    }

    func componentCharts() -> [PlotScene] {
        let window = history.smoothingWindow
        return LossCurvePlot.components.enumerated().map { i, component in
            stepChart(title: component.name, yLabel: "loss", values: history.iterations.map { Double(component.value($0)) },
                      smoothed: true, color: PlotPalette.color(i + 1), window: window)
        }
    }

    /// One quantity over steps: raw (light) and, when `smoothed`, its moving average.
    func stepChart(title: String, yLabel: String, values: [Double], smoothed: Bool,
                   color: VisionImaging.RGBColor = PlotPalette.color(0), window: Int? = nil) -> PlotScene {
        let steps = history.iterations.map { Double($0.globalStep) }
        let window = window ?? history.smoothingWindow
        var series = [LineSeries(name: "raw", points: zip(steps, values).map { PlotPoint($0, $1) },
                                 color: smoothed ? PlotPalette.light(color) : color, width: smoothed ? 1 : 2, inLegend: smoothed)]
        if smoothed {
            series.append(LineSeries(name: "mean of \(window)", points: zip(steps, movingAverage(values, window: window)).map { PlotPoint($0, $1) },
                                     color: color, width: 2))
        }
        var chart = LineChart(title: title, xLabel: "step", yLabel: yLabel, series: series)
        let top = values.filter(\.isFinite).max() ?? 1
        chart.yRange = (0, AxisTicks.niceInterval(0, max(top, 1e-12)).upper)
        chart.width = 440
        chart.height = 260
        return chart.scene()
    }

    func validationChart() -> LineChart {
        let scored = history.epochs.filter { $0.validation != nil }
        func series(_ name: String, _ value: (DetectionMetrics) -> Double, _ i: Int) -> LineSeries {
            LineSeries(name: name, points: scored.compactMap { e in
                let v = value(e.validation!)
                return v < 0 ? nil : PlotPoint(Double(e.epoch + 1), v)
            }, color: PlotPalette.color(i), dots: true)
        }
        var chart = LineChart(title: "validation (COCO) after each epoch", xLabel: "epoch", yLabel: "score",
                              series: [series("AP", \.AP, 0), series("AP50", \.AP50, 1), series("AR100", \.AR100, 2)])
        chart.yRange = (0, 1)
        let first = Double(scored.first!.epoch + 1), last = Double(scored.last!.epoch + 1)
        chart.xRange = (first - 0.5, max(last + 0.5, first + 0.5))
        // Whole epochs only; about ten labels at most.
        let every = max(1, Int((last - first) / 10) + 1)
        chart.xTicks = stride(from: first, through: last, by: Double(every)).map { $0 }
        if let best = history.bestEpoch, let v = best.validation {
            chart.markers = [VerticalMarker(x: Double(best.epoch + 1), label: String(format: "best: epoch %d, AP %.3f", best.epoch + 1, v.AP))]
        }
        chart.width = 900
        return chart
    }

    func configurationRows() -> [[String]] {
        let o = options
        var rows: [[String]] = [
            ["dataset", o.datasetImages.map { "--images \($0) --annotations \(o.datasetPath ?? "")" } ?? (o.datasetPath ?? "")],
            ["training split", o.trainingSplit ?? ""], ["validation split", o.validationSplit ?? ""],
            ["epochs", "\(o.epochs)"], ["batch size", "\(o.batchSize)"], ["learning rate", "\(o.learningRate)"],
            ["momentum", "\(o.momentum)"], ["weight decay", "\(o.weightDecay)"],
            ["milestones (epochs)", o.milestones.map(String.init).joined(separator: ", ")],
            ["warm-up steps", o.warmupSteps.map(String.init) ?? "default"], ["warm-up factor", "\(o.warmupFactor)"],
            ["trainable backbone layers", "\(o.trainableBackboneLayers)"], ["horizontal flip probability", "\(o.horizontalFlipProbability)"],
            ["seed", "\(o.seed)"],
        ]
        rows += [["multi-scale shorter sides", o.multiScaleSizes.map { $0.map(String.init).joined(separator: ", ") } ?? "off"],
                 ["photometric distortion probability", "\(o.photometricProbability ?? 0)"],
                 ["channel permutation probability", "\(o.channelPermutationProbability ?? 0)"],
                 ["random IoU crop", o.iouCrop == true ? "on" : "off"]]
        if let patience = o.patience { rows.append(["patience (epochs)", "\(patience)"]) }
        if o.checkpointEverySteps > 0 { rows.append(["checkpoint every (steps)", "\(o.checkpointEverySteps)"]) }
        return rows
    }

    /// Writes report.html atomically (a reader never sees half a page).
    public func write(to directory: URL, generatedIn seconds: Double? = nil) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        do {
            try Data(html(generatedIn: seconds).utf8).write(to: url, options: .atomic)
        } catch {
            throw TrainingModelError("\(url.path): cannot write: \(error.localizedDescription)")
        }
    }
}
