// Line charts: losses over steps, the learning rate, validation AP over epochs,
// precision-recall curves. Series are drawn in order (raw light lines first, then
// smoothed ones over them); vertical markers flag an x (the best epoch).

import Foundation
import VisionImaging

public struct LineSeries: Sendable, Equatable {
    public var name: String
    public var points: [PlotPoint]
    public var color: RGBColor
    public var width: Int
    public var dashed: Bool
    /// Draw a dot at every point (for series of a few points, such as epochs).
    public var dots: Bool
    /// Listed in the legend (a raw series under its smoothed one need not be).
    public var inLegend: Bool

    public init(name: String, points: [PlotPoint], color: RGBColor, width: Int = 2, dashed: Bool = false,
                dots: Bool = false, inLegend: Bool = true) {
        self.name = name
        self.points = points
        self.color = color
        self.width = width
        self.dashed = dashed
        self.dots = dots
        self.inLegend = inLegend
    }
}

/// A vertical line at `x` with a label at its top.
public struct VerticalMarker: Sendable, Equatable {
    public var x: Double
    public var label: String
    public var color: RGBColor
    public init(x: Double, label: String, color: RGBColor = PlotPalette.marker) {
        self.x = x
        self.label = label
        self.color = color
    }
}

public struct LineChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [LineSeries]
    public var markers: [VerticalMarker] = []
    /// Fixed axis intervals (default: the data's, widened to whole ticks).
    public var xRange: (Double, Double)?
    public var yRange: (Double, Double)?
    public var xKind: AxisScale.Kind = .linear
    /// Fixed x ticks (epochs: whole numbers only), labelled with `%g`.
    public var xTicks: [Double]?
    public var width = 640, height = 320

    public init(title: String, xLabel: String, yLabel: String, series: [LineSeries]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// The data's interval of the finite values, widened to whole ticks.
    static func dataInterval(_ values: [Double], includeZero: Bool = false) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        guard var lo = finite.min(), var hi = finite.max() else { return (0, 1) }
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        return AxisTicks.niceInterval(lo, hi)
    }

    public func scene() -> PlotScene {
        var scene = PlotScene(width: width, height: height)
        let frame = ChartFrame(width: width, height: height, hasTitle: !title.isEmpty)
        let xs = series.flatMap { $0.points.map(\.x) } + markers.map(\.x)
        let ys = series.flatMap { $0.points.map(\.y) }
        let xr: (Double, Double)
        if let xRange { xr = xRange } else if xKind == .log2 {
            let positive = xs.filter { $0 > 0 && $0.isFinite }
            xr = (pow(2, floor(log2(positive.min() ?? 1))), pow(2, ceil(log2(positive.max() ?? 2))))
        } else {
            let finite = xs.filter(\.isFinite)
            xr = (finite.min() ?? 0, max(finite.max() ?? 1, (finite.min() ?? 0) + 1))
        }
        let yr = yRange ?? Self.dataInterval(ys)
        let x = AxisScale(kind: xKind, lower: xr.0, upper: xr.1, from: frame.left, to: frame.right)
        let y = AxisScale(lower: yr.0, upper: yr.1, from: frame.bottom, to: frame.top)
        frame.drawAxes(&scene, title: title, x: x, xLabel: xLabel, y: y, yLabel: yLabel,
                       xTickLabels: xTicks?.map { ($0, String(format: "%g", $0)) })
        for marker in markers {
            let px = x.pixel(marker.x).rounded()
            scene.line([PlotPoint(px, frame.top), PlotPoint(px, frame.bottom)], color: marker.color, width: 1, dashed: true)
            frame.drawMarkerLabel(&scene, marker.label, px: px, row: 0, color: marker.color)
        }
        for s in series {
            // Points outside the shown interval are clamped to the frame so a spike stays visible.
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { p in
                PlotPoint(x.pixel(p.x), min(max(y.pixel(p.y), frame.top), frame.bottom))
            }
            if points.count > 1 { scene.line(Self.thinned(points), color: s.color, width: s.width, dashed: s.dashed) }
            if s.dots || points.count == 1 {
                for p in points { scene.add(.dot(x: p.x, y: p.y, radius: 3, color: s.color)) }
            }
        }
        frame.drawLegend(&scene, series.filter(\.inLegend).map {
            LegendEntry(name: $0.name, color: $0.color, swatch: .line(dashed: $0.dashed))
        })
        return scene
    }
}

extension LineChart {
    /// A long series cut to at most 2 points per pixel column (its lowest and highest,
    /// in order), so a 100 000-step run draws as fast and as small as a short one and
    /// still shows every spike.
    static func thinned(_ points: [PlotPoint]) -> [PlotPoint] {
        guard points.count > 1000 else { return points }
        var out: [PlotPoint] = []
        var column = [PlotPoint]()
        func flush() {
            guard let low = column.indices.min(by: { column[$0].y < column[$1].y }),
                  let high = column.indices.max(by: { column[$0].y < column[$1].y }) else { return }
            for i in Set([low, high]).sorted() { out.append(column[i]) }
            column.removeAll(keepingCapacity: true)
        }
        for p in points {
            if let first = column.first, p.x.rounded(.down) != first.x.rounded(.down) { flush() }
            column.append(p)
        }
        flush()
        return out
    }
}

/// A moving average over a window of `window` values (the first values average what there is).
public func movingAverage(_ values: [Double], window: Int) -> [Double] {
    let window = max(1, window)
    var out: [Double] = [], sum = 0.0
    out.reserveCapacity(values.count)
    for (i, v) in values.enumerated() {
        sum += v
        if i >= window { sum -= values[i - window] }
        out.append(sum / Double(min(i + 1, window)))
    }
    return out
}
