// Bar charts of named categories (per-class AP50, boxes per class and split) and
// histograms of numbers (box sizes against anchor sizes). Groups of bars sit side
// by side in each category.

import Foundation
import VisionImaging

public struct BarSeries: Sendable, Equatable {
    public var name: String
    public var values: [Double]
    public var color: RGBColor
    public init(name: String, values: [Double], color: RGBColor) {
        self.name = name
        self.values = values
        self.color = color
    }
}

public struct BarChart: Sendable {
    public var title: String
    public var yLabel: String
    public var categories: [String]
    /// One value per category in each series.
    public var series: [BarSeries]
    public var yRange: (Double, Double)?
    /// Write each bar's value above it: with this many decimals (nil: whole numbers as such, else 3).
    public var showValues = true
    public var valueDecimals: Int?
    public var width = 640, height = 320

    public init(title: String, yLabel: String, categories: [String], series: [BarSeries]) {
        self.title = title
        self.yLabel = yLabel
        self.categories = categories
        self.series = series
    }

    public func scene() -> PlotScene {
        var scene = PlotScene(width: width, height: height)
        let frame = ChartFrame(width: width, height: height, hasTitle: !title.isEmpty)
        let values = series.flatMap(\.values)
        // Headroom above the tallest bar for its value and the legend.
        let yr = yRange ?? LineChart.dataInterval(values.map { $0 * (series.count > 1 ? 1.5 : 1.1) }, includeZero: true)
        let n = max(categories.count, 1)
        let x = AxisScale(lower: 0, upper: Double(n), from: frame.left, to: frame.right)
        let y = AxisScale(lower: yr.0, upper: yr.1, from: frame.bottom, to: frame.top)
        let labels = categories.enumerated().map { (Double($0.offset) + 0.5, $0.element) }
        frame.drawAxes(&scene, title: title, x: x, xLabel: "", y: y, yLabel: yLabel, xTickLabels: labels)
        let groupWidth = (frame.right - frame.left) / Double(n) * 0.8
        let barWidth = groupWidth / Double(max(series.count, 1))
        let zero = y.pixel(max(yr.0, min(0, yr.1)))
        for (si, s) in series.enumerated() {
            for (ci, value) in s.values.enumerated() where ci < categories.count && value.isFinite {
                let left = x.pixel(Double(ci) + 0.1) + Double(si) * barWidth
                let top = min(y.pixel(value), zero), bottom = max(y.pixel(value), zero)
                scene.rectangle(x: left, y: top, width: max(barWidth - 1, 1), height: max(bottom - top, 1), fill: s.color)
                if showValues {
                    scene.text(valueDecimals.map { String(format: "%.\($0)f", value) } ?? BarChart.valueLabel(value), x: left + barWidth / 2, y: top - 10, anchor: .middle)
                }
            }
        }
        if series.count > 1 {
            frame.drawLegend(&scene, series.map { LegendEntry(name: $0.name, color: $0.color, swatch: .box) })
        }
        return scene
    }

    /// Whole numbers as they are, fractions with 3 decimals.
    public static func valueLabel(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.3f", v)
    }
}

/// Counts of values in bins.
public struct HistogramBins: Sendable, Equatable {
    /// Bin i holds values in [edges[i], edges[i + 1]) (the last bin also its upper edge).
    public var edges: [Double]
    public var counts: [Int]

    /// `count` bins spanning the values (on a log2 scale: bins equal in log2).
    public init(values: [Double], count: Int, kind: AxisScale.Kind = .linear) {
        let finite = values.filter { $0.isFinite && (kind == .linear || $0 > 0) }
        let count = max(count, 1)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if kind == .log2 { lo = Foundation.log2(max(lo, 1e-9)); hi = Foundation.log2(max(hi, 1e-9)) }
        if hi <= lo { hi = lo + 1 }
        let step = (hi - lo) / Double(count)
        let rawEdges = (0...count).map { lo + Double($0) * step }
        edges = kind == .log2 ? rawEdges.map { pow(2, $0) } : rawEdges
        counts = [Int](repeating: 0, count: count)
        for v in finite {
            let t = kind == .log2 ? Foundation.log2(v) : v
            counts[min(count - 1, max(0, Int((t - lo) / step)))] += 1
        }
    }
}

public struct Histogram: Sendable {
    public var title: String
    public var xLabel: String
    public var bins: HistogramBins
    public var kind: AxisScale.Kind
    public var color = PlotPalette.color(0)
    /// Vertical lines (anchor sizes, aspect ratios).
    public var markers: [VerticalMarker] = []
    public var width = 640, height = 300

    public init(title: String, xLabel: String, bins: HistogramBins, kind: AxisScale.Kind = .linear) {
        self.title = title
        self.xLabel = xLabel
        self.bins = bins
        self.kind = kind
    }

    public func scene() -> PlotScene {
        var scene = PlotScene(width: width, height: height)
        let frame = ChartFrame(width: width, height: height, hasTitle: !title.isEmpty)
        var lo = bins.edges.first ?? 0, hi = bins.edges.last ?? 1
        for m in markers { lo = min(lo, m.x); hi = max(hi, m.x) }
        if kind == .log2 { lo = pow(2, floor(log2(max(lo, 1e-9)))); hi = pow(2, ceil(log2(max(hi, 1e-9)))) }
        let x = AxisScale(kind: kind, lower: lo, upper: hi, from: frame.left, to: frame.right)
        let yr = AxisTicks.niceInterval(0, Double(bins.counts.max() ?? 1))
        let y = AxisScale(lower: 0, upper: yr.upper, from: frame.bottom, to: frame.top)
        frame.drawAxes(&scene, title: title, x: x, xLabel: xLabel, y: y, yLabel: "count")
        for (i, count) in bins.counts.enumerated() where count > 0 {
            let left = x.pixel(bins.edges[i]), right = x.pixel(bins.edges[i + 1])
            let top = y.pixel(Double(count))
            scene.rectangle(x: left, y: top, width: max(right - left - 1, 1), height: frame.bottom - top, fill: color)
        }
        for (i, marker) in markers.enumerated() {
            let px = x.pixel(marker.x).rounded()
            scene.line([PlotPoint(px, frame.top), PlotPoint(px, frame.bottom)], color: marker.color, width: 1, dashed: true)
            // Labels alternate in height so neighbours do not overlap.
            frame.drawMarkerLabel(&scene, marker.label, px: px, row: i % 2, color: marker.color)
        }
        return scene
    }
}
