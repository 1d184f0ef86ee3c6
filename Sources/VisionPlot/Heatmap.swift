// A matrix of counts as coloured cells with the count written in each (the
// confusion matrix): rows top to bottom, columns left to right, the colour
// scaled per row so that each row reads as where that row's objects went.

import Foundation
import VisionImaging

public struct Heatmap: Sendable {
    public var title: String
    public var rowTitle: String
    public var columnTitle: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// values[row][column].
    public var values: [[Double]]
    public var cellSize = 72

    public init(title: String, rowTitle: String, columnTitle: String, rowLabels: [String], columnLabels: [String], values: [[Double]]) {
        self.title = title
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
    }

    /// White for 0 up to dark blue for the row's largest value.
    public static func shade(_ fraction: Double) -> RGBColor {
        let t = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        func mix(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * t).rounded()) }
        return RGBColor(r: mix(255, 8), g: mix(255, 69), b: mix(255, 148))
    }

    public func scene() -> PlotScene {
        let labelWidth = Double((rowLabels.map { RGBImage.textSize($0, scale: 1).width }.max() ?? 0) + 30)
        let left = labelWidth, top = 44.0
        let columnLabelHeight = 24.0
        let width = Int(left) + cellSize * columnLabels.count + 16
        let height = Int(top) + cellSize * rowLabels.count + Int(columnLabelHeight) + 24
        var scene = PlotScene(width: width, height: height)
        scene.text(title, x: Double(width) / 2, y: 8, anchor: .middle)
        scene.text(columnTitle, x: left + Double(cellSize * columnLabels.count) / 2, y: 26, anchor: .middle)
        scene.text(rowTitle, x: 8, y: top + Double(cellSize * rowLabels.count) / 2, anchor: .middle, vertical: true)
        let c = Double(cellSize)
        for (r, row) in values.enumerated() where r < rowLabels.count {
            let rowMax = row.max() ?? 0
            for (k, value) in row.enumerated() where k < columnLabels.count {
                let fraction = rowMax > 0 ? value / rowMax : 0
                let fill = Heatmap.shade(fraction)
                let x = left + Double(k) * c, y = top + Double(r) * c
                scene.rectangle(x: x, y: y, width: c, height: c, fill: fill, stroke: PlotPalette.grid)
                scene.text(BarChart.valueLabel(value), x: x + c / 2, y: y + c / 2 - 4, anchor: .middle,
                           color: DetectionPalette.textColor(on: fill))
            }
            scene.text(rowLabels[r], x: left - 6, y: top + Double(r) * c + c / 2 - 4, anchor: .end)
        }
        for (k, label) in columnLabels.enumerated() {
            scene.text(label, x: left + Double(k) * c + c / 2, y: top + Double(rowLabels.count) * c + 6, anchor: .middle)
        }
        return scene
    }
}
