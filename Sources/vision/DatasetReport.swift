// `vision dataset inspect --report DIR`: report.html with boxes and images per class
// and split, box width/height and aspect-ratio histograms against the anchors a
// model would match them with, image sizes, and the problems found.
//
// Box sizes are taken at the model's input scale (the image resized so its short
// side is minSize, long side at most maxSize, as the model's transform does): that
// is the scale the anchors are defined at.

import Foundation
import VisionData
import VisionDetection
import VisionImaging
import VisionPlot

struct DatasetReport {
    static let generator = "vision dataset report"
    static func isReportFile(_ name: String) -> Bool { name == "report.html" }

    let dataset: DetectionDataset
    let split: String?
    let model: ModelConfig
    /// What `vision dataset inspect` printed.
    let text: String

    struct PlottedData: Encodable {
        struct Split: Encodable { var split: String; var images: Int; var boxes: Int; var boxes_per_class: [Int]; var images_per_class: [Int] }
        var classes: [String]
        var splits: [Split]
        var model: String
        var anchor_sizes: [Double]
        var aspect_ratios: [Double]
        /// Histogram of box widths, heights (pixels at the model's input) and aspect ratios (height / width).
        var width_edges: [Double], width_counts: [Int]
        var height_edges: [Double], height_counts: [Int]
        var aspect_edges: [Double], aspect_counts: [Int]
        var problems: [String: Int]
    }

    /// Width, height and aspect ratio of every box of `records` at the model's input scale.
    static func boxShapes(_ records: [DetectionRecord], model: ModelConfig) -> (widths: [Double], heights: [Double], aspects: [Double]) {
        var widths: [Double] = [], heights: [Double] = [], aspects: [Double] = []
        for record in records where record.width > 0 && record.height > 0 {
            let resized = detectionResizeSize(height: record.height, width: record.width, minSize: model.minSize, maxSize: model.maxSize)
            let scale = Double(resized.height) / Double(record.height)
            for box in record.boxes where box.width > 0 && box.height > 0 {
                widths.append(box.width * scale)
                heights.append(box.height * scale)
                aspects.append(box.height / box.width)
            }
        }
        return (widths, heights, aspects)
    }

    func html() throws -> String {
        let summaries = try dataset.summaries(only: split)
        // Each image once, though splits overlap (Pascal VOC's trainval is train + val).
        var seen = Set<URL>()
        let records = try (split.map { [$0] } ?? dataset.splits).flatMap { try dataset.records(split: $0) }
            .filter { seen.insert($0.imageURL).inserted }
        let shapes = Self.boxShapes(records, model: model)
        let anchors = Array(Set(model.anchorSizes.flatMap { $0 }.map(Double.init))).sorted()
        let ratios = Array(Set(model.aspectRatios.flatMap { $0 }.map(Double.init))).sorted()
        let widthBins = HistogramBins(values: shapes.widths, count: 30, kind: .log2)
        let heightBins = HistogramBins(values: shapes.heights, count: 30, kind: .log2)
        let aspectBins = HistogramBins(values: shapes.aspects, count: 30, kind: .log2)
        var problemCounts: [String: Int] = [:]
        for p in dataset.problems { problemCounts[p.kind.rawValue, default: 0] += 1 }

        var page = HTMLPage(title: "vision dataset report", generator: Self.generator)
        page.paragraph("\(dataset.format.rawValue) dataset \(dataset.root.path): \(dataset.classes.count) classes, splits "
                       + "\(summaries.map(\.split).joined(separator: ", ")); \(dataset.problems.count) problems.", className: "sub")
        page.heading("Objects per class and split")
        let colours = summaries.indices.map(PlotPalette.color)
        var boxes = BarChart(title: "boxes per class", yLabel: "boxes", categories: dataset.classes,
                             series: zip(summaries, colours).map { BarSeries(name: $0.split, values: $0.boxesPerClass.map(Double.init), color: $1) })
        boxes.width = 760
        var imagesChart = BarChart(title: "images holding the class", yLabel: "images", categories: dataset.classes,
                                   series: zip(summaries, colours).map { BarSeries(name: $0.split, values: $0.imagesPerClass.map(Double.init), color: $1) })
        imagesChart.width = 760
        page.charts([boxes.scene(), imagesChart.scene()])
        page.table(header: ["split", "images", "without boxes", "boxes"] + dataset.classes, rows: summaries.map { s in
            ["\(s.split)", "\(s.images)", "\(s.emptyImages)", "\(s.boxes)"] + s.boxesPerClass.map(String.init)
        })
        page.heading("Box sizes against \(model.name)'s anchors")
        page.paragraph("Boxes at the model's input scale (short side \(model.minSize), long side at most \(model.maxSize)); dashed "
                       + "lines: anchor sizes \(anchors.map { String(format: "%g", $0) }.joined(separator: ", ")) and aspect ratios "
                       + "\(ratios.map { String(format: "%g", $0) }.joined(separator: ", ")) (height / width). Objects far from every "
                       + "anchor are matched poorly by the region proposal network. Pick the model with --model.")
        func histogram(_ title: String, _ label: String, _ bins: HistogramBins, _ marks: [Double], _ prefix: String) -> PlotScene {
            var h = Histogram(title: title, xLabel: label, bins: bins, kind: .log2)
            h.markers = marks.map { VerticalMarker(x: $0, label: prefix + String(format: "%g", $0)) }
            h.width = 560
            return h.scene()
        }
        page.charts([histogram("box width (\(shapes.widths.count) boxes, \(records.count) images)", "width, pixels at model input (log scale)", widthBins, anchors, ""),
                     histogram("box height", "height, pixels at model input (log scale)", heightBins, anchors, ""),
                     histogram("box aspect ratio", "height / width (log scale)", aspectBins, ratios, "")])
        page.heading("Image sizes")
        var sizes: [String: Int] = [:]
        for r in records { sizes["\(r.width) x \(r.height)", default: 0] += 1 }
        page.table(header: ["width x height", "images"], rows: sizes.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(20).map {
            [$0.key, "\($0.value)"]
        })
        page.heading("Problems")
        if dataset.problems.isEmpty {
            page.paragraph("None found.")
        } else {
            page.table(header: ["kind", "count"], rows: problemCounts.sorted { $0.key < $1.key }.map { [$0.key, "\($0.value)"] })
            page.preformatted(dataset.problems.prefix(500).map(\.description).joined(separator: "\n")
                              + (dataset.problems.count > 500 ? "\n... and \(dataset.problems.count - 500) more" : ""))
        }
        page.heading("vision dataset inspect")
        page.preformatted(text)
        let data = PlottedData(classes: dataset.classes, splits: summaries.map {
            .init(split: $0.split, images: $0.images, boxes: $0.boxes, boxes_per_class: $0.boxesPerClass, images_per_class: $0.imagesPerClass)
        }, model: model.name, anchor_sizes: anchors, aspect_ratios: ratios, width_edges: widthBins.edges, width_counts: widthBins.counts,
            height_edges: heightBins.edges, height_counts: heightBins.counts, aspect_edges: aspectBins.edges,
            aspect_counts: aspectBins.counts, problems: problemCounts)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        page.data(try encoder.encode(data))
        return page.html()
    }
}
