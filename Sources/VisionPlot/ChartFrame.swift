// What every x/y chart shares: title, plot area, grid lines, tick marks with labels,
// axis labels and a legend box.

import Foundation
import VisionImaging

/// One legend entry: a swatch (a line, dashed or not, or a filled square) and its name.
public struct LegendEntry: Sendable, Equatable {
    public enum Swatch: Sendable, Equatable { case line(dashed: Bool), box }
    public var name: String
    public var color: RGBColor
    public var swatch: Swatch

    public init(name: String, color: RGBColor, swatch: Swatch = .line(dashed: false)) {
        self.name = name
        self.color = color
        self.swatch = swatch
    }
}

/// The pixel layout of a chart: its plot area inside margins left for ticks and labels.
struct ChartFrame {
    let width: Int, height: Int
    let left: Double, top: Double, right: Double, bottom: Double

    init(width: Int, height: Int, hasTitle: Bool, leftMargin: Double = 62, bottomMargin: Double = 42) {
        self.width = width
        self.height = height
        left = leftMargin
        top = hasTitle ? 28 : 12
        right = Double(width) - 16
        bottom = Double(height) - bottomMargin
    }

    /// Title, frame, grid and tick labels of both axes, axis labels.
    func drawAxes(_ scene: inout PlotScene, title: String, x: AxisScale, xLabel: String, y: AxisScale, yLabel: String,
                  xTickLabels: [(Double, String)]? = nil) {
        if !title.isEmpty { scene.text(title, x: Double(width) / 2, y: 8, anchor: .middle, scale: 1, color: .black) }
        let ySteps = y.ticks
        let yStep = ySteps.count > 1 ? ySteps[1] - ySteps[0] : 1
        for value in ySteps {
            let py = y.pixel(value).rounded()
            scene.line([PlotPoint(left, py), PlotPoint(right, py)], color: PlotPalette.grid)
            scene.line([PlotPoint(left - 4, py), PlotPoint(left, py)], color: PlotPalette.axis)
            scene.text(AxisTicks.label(value, step: yStep), x: left - 6, y: py - 4, anchor: .end)
        }
        let xTicks = xTickLabels ?? {
            let values = x.ticks
            let step = values.count > 1 ? values[1] - values[0] : 1
            return values.map { ($0, x.kind == .log2 ? String(format: "%g", $0) : AxisTicks.label($0, step: step)) }
        }()
        for (value, label) in xTicks {
            let px = x.pixel(value).rounded()
            if xTickLabels == nil { scene.line([PlotPoint(px, top), PlotPoint(px, bottom)], color: PlotPalette.grid) }
            scene.line([PlotPoint(px, bottom), PlotPoint(px, bottom + 4)], color: PlotPalette.axis)
            scene.text(label, x: px, y: bottom + 7, anchor: .middle)
        }
        scene.rectangle(x: left, y: top, width: right - left + 1, height: bottom - top + 1, stroke: PlotPalette.axis)
        scene.text(xLabel, x: (left + right) / 2, y: Double(height) - 14, anchor: .middle)
        scene.text(yLabel, x: 8, y: (top + bottom) / 2, anchor: .middle, vertical: true)
    }

    /// A label at the top of a vertical line at pixel `px`: right of the line, or left of
    /// it where it would run past the frame; `row` staggers neighbours' labels.
    func drawMarkerLabel(_ scene: inout PlotScene, _ label: String, px: Double, row: Int, color: RGBColor) {
        let width = Double(RGBImage.textSize(label, scale: 1).width)
        let y = top + 3 + Double(row) * 11
        if px + 3 + width > right - 2 {
            scene.text(label, x: px - 3, y: y, anchor: .end, color: color)
        } else {
            scene.text(label, x: px + 3, y: y, color: color)
        }
    }

    /// A legend box in the plot area's top-right corner (nothing for no entries).
    func drawLegend(_ scene: inout PlotScene, _ entries: [LegendEntry]) {
        guard !entries.isEmpty else { return }
        let textWidth = Double(entries.map { RGBImage.textSize($0.name, scale: 1).width }.max() ?? 0)
        let rowHeight = 13.0
        let boxWidth = textWidth + 34, boxHeight = Double(entries.count) * rowHeight + 8
        let x0 = right - boxWidth - 6, y0 = top + 6
        scene.rectangle(x: x0, y: y0, width: boxWidth, height: boxHeight, fill: .white, stroke: PlotPalette.grid)
        for (i, entry) in entries.enumerated() {
            let cy = y0 + 4 + Double(i) * rowHeight + 6
            switch entry.swatch {
            case .line(let dashed):
                scene.line([PlotPoint(x0 + 5, cy), PlotPoint(x0 + 23, cy)], color: entry.color, width: 2, dashed: dashed)
            case .box:
                scene.rectangle(x: x0 + 8, y: cy - 4, width: 10, height: 9, fill: entry.color)
            }
            scene.text(entry.name, x: x0 + 28, y: cy - 4)
        }
    }
}
