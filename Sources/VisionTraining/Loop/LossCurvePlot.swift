// loss_curve.png, for terminals and CI artifacts: the total loss per step (light)
// and its moving average (dark), with the four loss components' moving averages,
// axis ticks, labels and a legend. Drawn from metrics.jsonl by the plotting module.

import Foundation
import VisionPlot

public enum LossCurvePlot {
    public static let fileName = "loss_curve.png"

    /// The components as metrics.jsonl names them, with how to read each value.
    static let components: [(name: String, value: (IterationMetrics) -> Float)] = [
        ("loss_objectness", \.lossObjectness), ("loss_rpn_box_reg", \.lossRPNBoxReg),
        ("loss_classifier", \.lossClassifier), ("loss_box_reg", \.lossBoxReg),
    ]

    public static func chart(_ history: TrainingHistory, width: Int = 800, height: Int = 400) -> LineChart {
        let steps = history.iterations.map { Double($0.globalStep) }
        let window = history.smoothingWindow
        func points(_ values: [Double]) -> [PlotPoint] { zip(steps, values).map { PlotPoint($0, $1) } }
        let total = history.iterations.map { Double($0.loss) }
        var series = [LineSeries(name: "loss (raw)", points: points(total), color: PlotPalette.light(PlotPalette.color(0)),
                                 width: 1, inLegend: true),
                      LineSeries(name: "loss (mean of \(window))", points: points(movingAverage(total, window: window)),
                                 color: PlotPalette.color(0), width: 2)]
        for (i, component) in components.enumerated() {
            let values = history.iterations.map { Double(component.value($0)) }
            series.append(LineSeries(name: component.name, points: points(movingAverage(values, window: window)),
                                     color: PlotPalette.color(i + 1), width: 1))
        }
        var chart = LineChart(title: "training loss over \(history.iterations.count) steps", xLabel: "step",
                              yLabel: "loss", series: series)
        // From 0, so components read against the total.
        let top = total.filter(\.isFinite).max() ?? 1
        chart.yRange = AxisTicks.niceInterval(0, top).lower == 0 ? (0, AxisTicks.niceInterval(0, top).upper) : nil
        chart.width = width
        chart.height = height
        return chart
    }

    public static func write(_ history: TrainingHistory, to url: URL) throws {
        try chart(history).scene().png().write(to: url, options: .atomic)
    }
}
