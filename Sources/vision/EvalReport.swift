// `vision eval --report DIR`: report.html and PNGs of what the metrics summarise:
// per-class precision-recall curves at IoU 0.5 and 0.75 (the precision arrays
// COCOeval averages into AP), the confusion matrix with a background row and column
// (IoU 0.5, score threshold of best F1), per-class AP50 bars, the images with the
// most missed objects drawn, and the metrics table.

import Foundation
import VisionData
import VisionImaging
import VisionPlot

struct EvalReport {
    static let generator = "vision eval report"
    static let worstImageCount = 8
    static let chartFiles = ["pr_curves_iou50.png", "pr_curves_iou75.png", "confusion_matrix.png", "ap50_per_class.png"]

    static func isReportFile(_ name: String) -> Bool {
        name == "report.html" || chartFiles.contains(name) || (name.hasPrefix("worst_") && name.hasSuffix(".png"))
    }

    let images: [EvaluationImage]
    let classes: [String]
    let metrics: DetectionMetrics
    let coco: COCOEvaluation
    /// "VOC dataset Samples/bccd, split test: 8 images, ..." (what eval printed).
    let summary: String

    /// The numbers the page plots (embedded as JSON): PR curves, their areas, the confusion matrix.
    struct PlottedData: Encodable {
        struct PerClass: Encodable {
            var name: String
            var ground_truth: Int
            /// Precision at recall 0, 0.01, ..., 1 (COCOeval's array; -1: no ground truth).
            var precision_iou50: [Double]?
            var precision_iou75: [Double]?
            /// The mean of precision_iou50: COCOeval's AP50 of the class.
            var area_iou50: Double
            var AP50: Double
        }
        var classes: [PerClass]
        var recall_thresholds: [Double]
        var score_threshold: Double
        var best_F1: Double
        /// Rows: true classes then background; columns: predicted classes then background.
        var confusion_matrix: [[Int]]
        var confusion_labels: [String]
        var metrics: DetectionMetrics
    }

    func write(to folder: ReportFolder) throws {
        let review = DetectionReview(images, numClasses: classes.count)
        let i50 = coco.iouIndex(0.5) ?? 0, i75 = coco.iouIndex(0.75) ?? 5
        let perClass = classes.enumerated().map { k, name -> PlottedData.PerClass in
            let p50 = coco.precisionCurve(classIndex: k, iouIndex: i50)
            return .init(name: name, ground_truth: review.groundTruthCounts[k], precision_iou50: p50,
                         precision_iou75: coco.precisionCurve(classIndex: k, iouIndex: i75),
                         area_iou50: p50.map { $0.reduce(0, +) / Double($0.count) } ?? -1, AP50: metrics.perClassAP50[name] ?? -1)
        }
        let labels = classes + ["background"]
        let data = PlottedData(classes: perClass, recall_thresholds: coco.parameters.recallThresholds,
                               score_threshold: review.scoreThreshold, best_F1: review.bestF1,
                               confusion_matrix: review.confusion, confusion_labels: labels, metrics: metrics)

        let pr50 = prChart(perClass, iou: "0.5", \.precision_iou50), pr75 = prChart(perClass, iou: "0.75", \.precision_iou75)
        let confusion = Heatmap(title: String(format: "confusion matrix (IoU 0.5, score >= %.2f)", review.scoreThreshold),
                                rowTitle: "true class", columnTitle: "predicted class", rowLabels: labels, columnLabels: labels,
                                values: review.confusion.map { $0.map(Double.init) }).scene()
        var bars = BarChart(title: "AP50 per class", yLabel: "AP50", categories: classes,
                            series: [BarSeries(name: "AP50", values: classes.map { max(metrics.perClassAP50[$0] ?? 0, 0) },
                                               color: PlotPalette.color(0))])
        bars.yRange = (0, 1)
        bars.valueDecimals = 3
        let scenes = [pr50, pr75, confusion, bars.scene()]
        for (scene, name) in zip(scenes, Self.chartFiles) { try folder.write(try scene.png(), to: name) }

        var page = HTMLPage(title: "vision eval report", generator: Self.generator)
        page.paragraph(summary, className: "sub")
        page.heading("Metrics")
        page.preformatted(metrics.table(classes: classes))
        page.heading("Precision-recall per class")
        page.paragraph("COCOeval's interpolated precision at 101 recall levels (area all, up to 100 detections per image); "
                       + "the mean of a curve at IoU 0.5 is the class's AP50.")
        page.charts([pr50, pr75])
        page.heading("AP50 per class")
        page.chart(bars.scene())
        page.heading("Confusion matrix")
        page.paragraph(String(format: "Detections scored at least %.3f (best F1 %.3f over all classes, IoU 0.5). A row is a true "
                              + "class; the background row counts false positives, the background column missed objects; "
                              + "each class row sums to that class's objects.", review.scoreThreshold, review.bestF1))
        page.chart(confusion)
        page.heading("Images with the most missed objects")
        page.paragraph("Solid outline: found (\"class score\"); dashed, \"FP\": false positive; black-edged, \"MISS\": missed object.")
        var grid: [(data: Data, mime: String, caption: String)] = []
        let worst = images.indices.filter { !review.outcomes[$0].missed.isEmpty }.sorted { a, b in
            let (ma, mb) = (review.outcomes[a].missed.count, review.outcomes[b].missed.count)
            if ma != mb { return ma > mb }
            let (fa, fb) = (review.outcomes[a].falsePositives.count, review.outcomes[b].falsePositives.count)
            return fa != fb ? fa > fb : images[a].groundTruth.fileName < images[b].groundTruth.fileName
        }.prefix(Self.worstImageCount)
        for (rank, i) in worst.enumerated() {
            guard let picture = try? ImageDecoder.decode(contentsOf: images[i].groundTruth.imageURL) else { continue }
            let outcome = review.outcomes[i]
            let drawn = ReviewDrawing.draw(picture, maxSide: 800, evaluation: images[i], outcome: outcome, classes: classes)
            try folder.write(try drawn.encodePNG(), to: "worst_\(rank + 1).png")
            let thumbnail = ReviewDrawing.draw(picture, maxSide: 340, evaluation: images[i], outcome: outcome, classes: classes)
            grid.append((try thumbnail.encodeJPEG(quality: 85), "image/jpeg",
                         "worst_\(rank + 1).png: \(images[i].groundTruth.fileName): \(outcome.missed.count) missed, "
                         + "\(outcome.truePositives.count) found, \(outcome.falsePositives.count) false positives"))
        }
        if grid.isEmpty { page.paragraph("No image has a missed object at this threshold.") } else { page.imageGrid(grid) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        page.data(try encoder.encode(data))
        try folder.write(Data(page.html().utf8), to: "report.html")
    }

    func prChart(_ perClass: [PlottedData.PerClass], iou: String, _ curve: KeyPath<PlottedData.PerClass, [Double]?>) -> PlotScene {
        let recall = coco.parameters.recallThresholds
        let series = perClass.enumerated().compactMap { k, c -> LineSeries? in
            guard let precision = c[keyPath: curve] else { return nil }
            let area = precision.reduce(0, +) / Double(precision.count)
            return LineSeries(name: String(format: "%@ (area %.3f)", c.name, area),
                              points: zip(recall, precision).map { PlotPoint($0, max($1, 0)) },
                              color: DetectionPalette.color(forClass: k + 1), width: 2)
        }
        var chart = LineChart(title: "precision-recall at IoU \(iou)", xLabel: "recall", yLabel: "precision", series: series)
        chart.xRange = (0, 1)
        chart.yRange = (0, 1)
        chart.width = 560
        chart.height = 360
        return chart.scene()
    }
}
