import XCTest
import VisionImaging
import VisionPlot

final class ChartTests: XCTestCase {
    private func texts(_ scene: PlotScene) -> [String] {
        scene.items.compactMap { if case let .text(s, _, _, _, _, _, _) = $0 { return s } else { return nil } }
    }

    private func polylines(_ scene: PlotScene, color: RGBColor) -> [[PlotPoint]] {
        scene.items.compactMap {
            if case let .polyline(points, c, _, _) = $0, c == color { return points } else { return nil }
        }
    }

    func testLineChartHasTicksLabelsLegendAndPlacesPointsOnTheScales() {
        let red = RGBColor(r: 200, g: 0, b: 0), blue = RGBColor(r: 0, g: 0, b: 200)
        var chart = LineChart(title: "loss", xLabel: "step", yLabel: "value", series: [
            LineSeries(name: "raw", points: [PlotPoint(0, 0), PlotPoint(10, 1)], color: red),
            LineSeries(name: "smoothed", points: [PlotPoint(0, 0.5), PlotPoint(10, 0.5)], color: blue, dashed: true),
        ])
        chart.yRange = (0, 1)
        chart.markers = [VerticalMarker(x: 5, label: "best")]
        let scene = chart.scene()
        let labels = texts(scene)
        for expected in ["loss", "step", "value", "raw", "smoothed", "best", "0", "0.2", "1.0", "10"] {
            XCTAssertTrue(labels.contains(expected), "missing \(expected) in \(labels)")
        }
        // The raw line goes from the bottom-left to the top-right corner of the plot area.
        let raw = try! XCTUnwrap(polylines(scene, color: red).first { $0.count == 2 })
        let frame = try! XCTUnwrap(scene.items.lazy.compactMap { item -> (top: Double, bottom: Double)? in
            if case let .rectangle(_, y, _, h, nil, PlotPalette.axis?) = item { return (y, y + h - 1) } else { return nil }
        }.first)
        XCTAssertEqual(raw[0].y, frame.bottom, accuracy: 1e-9)
        XCTAssertEqual(raw[1].y, frame.top, accuracy: 1e-9)
        XCTAssertLessThan(raw[0].x, raw[1].x)
        let svg = scene.svg()
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.contains("stroke-dasharray=\"6 4\""), "the dashed series and its legend swatch")
        XCTAssertTrue(svg.contains(">smoothed</text>"))
    }

    func testBarChartBarHeightsAreProportionalToValues() {
        var chart = BarChart(title: "AP50", yLabel: "AP50", categories: ["a", "b"],
                             series: [BarSeries(name: "AP50", values: [0.25, 1.0], color: PlotPalette.color(0))])
        chart.yRange = (0, 1)
        let bars = chart.scene().items.compactMap { item -> Double? in
            if case let .rectangle(_, _, _, h, fill, _) = item, fill == PlotPalette.color(0) { return h }
            return nil
        }
        XCTAssertEqual(bars.count, 2)
        XCTAssertEqual(bars[0] / bars[1], 0.25, accuracy: 0.01)
        XCTAssertTrue(texts(chart.scene()).contains("0.250"))
    }

    func testHistogramCountsEveryValueInItsBin() {
        let bins = HistogramBins(values: [0, 1, 1, 2, 3, 4, .nan], count: 4)
        XCTAssertEqual(bins.counts, [1, 2, 1, 2])
        XCTAssertEqual(bins.edges, [0, 1, 2, 3, 4])
        let log = HistogramBins(values: [16, 20, 60, 64, 250], count: 4, kind: .log2)
        XCTAssertEqual(log.counts.reduce(0, +), 5)
        XCTAssertEqual(log.edges.first!, 16, accuracy: 1e-9)
        XCTAssertEqual(log.edges.last!, 250, accuracy: 1e-9)
        var histogram = Histogram(title: "sizes", xLabel: "px", bins: log, kind: .log2)
        histogram.markers = [VerticalMarker(x: 32, label: "anchor 32")]
        let labels = texts(histogram.scene())
        XCTAssertTrue(labels.contains("anchor 32"))
        XCTAssertTrue(labels.contains("256"), "log2 ticks are powers of two: \(labels)")
    }

    func testHeatmapWritesEveryCellAndItsLabels() {
        let map = Heatmap(title: "confusion", rowTitle: "true", columnTitle: "predicted", rowLabels: ["cat", "background"],
                          columnLabels: ["cat", "background"], values: [[7, 3], [2, 0]])
        let scene = map.scene()
        let labels = texts(scene)
        for expected in ["7", "3", "2", "0", "cat", "background", "true", "predicted"] {
            XCTAssertTrue(labels.contains(expected), "missing \(expected)")
        }
        let cells = scene.items.filter { if case .rectangle(_, _, _, _, _?, _?) = $0 { return true } else { return false } }
        XCTAssertEqual(cells.count, 4)
        XCTAssertEqual(Heatmap.shade(0), .white)
        XCTAssertNotEqual(Heatmap.shade(1), .white)
    }

    func testRasterisedSceneDrawsLinesTextAndEncodesAsPNG() throws {
        let green = RGBColor(r: 0, g: 160, b: 0)
        var scene = PlotScene(width: 100, height: 60)
        scene.line([PlotPoint(10, 30), PlotPoint(90, 30)], color: green, width: 3)
        scene.text("Hi", x: 50, y: 2, anchor: .middle)
        scene.text("up", x: 2, y: 50, vertical: true)
        scene.line([PlotPoint(10, 50), PlotPoint(90, 50)], color: green, width: 1, dashed: true)
        let image = scene.rasterized()
        XCTAssertEqual(image[50, 30], green)
        XCTAssertEqual(image[50, 29], green, "3 px wide")
        XCTAssertEqual(image[50, 33], .white)
        // The dashed line has gaps: 6 on, 4 off.
        let dashed = (10...90).map { image[$0, 50] == green }
        XCTAssertEqual(dashed.filter { $0 }.count, 49)
        // Centred text: ink on both sides of x = 50 in rows 2...9.
        let ink = (2..<10).flatMap { y in (40..<60).map { image[$0, y] } }.filter { $0 == .black }.count
        XCTAssertGreaterThan(ink, 10)
        // Vertical text reads upwards from y = 50: its ink is above, in columns 2...9.
        let verticalInk = (30..<51).flatMap { y in (2..<10).map { image[$0, y] } }.filter { $0 == .black }.count
        XCTAssertGreaterThan(verticalInk, 10)
        let png = try scene.png()
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let decoded = try ImageDecoder.decode(data: png, name: "chart.png")
        XCTAssertEqual(decoded, image)
    }

    func testSVGEscapesTextAndHTMLPageIsSelfContained() {
        var scene = PlotScene(width: 10, height: 10)
        scene.text("a<b & \"c\"", x: 0, y: 0)
        XCTAssertTrue(scene.svg().contains("a&lt;b &amp; &quot;c&quot;"))
        var page = HTMLPage(title: "T <1>", generator: "vision test")
        page.chart(scene)
        page.table(header: ["k", "v"], rows: [["x", "1"]])
        page.data(Data("{\"a\":\"</script>\"}".utf8))
        let html = page.html()
        XCTAssertTrue(html.contains("<title>T &lt;1&gt;</title>"))
        XCTAssertTrue(html.contains("<meta name=\"generator\" content=\"vision test\">"))
        XCTAssertFalse(html.contains("src=\"http"), "nothing fetched")
        XCTAssertFalse(html.contains("\"</script>\""), "the data block cannot close early")
        XCTAssertEqual(html.components(separatedBy: "</script>").count, 2)
    }

    func testALongSeriesIsThinnedToItsColumnsKeepingSpikes() {
        let color = RGBColor(r: 1, g: 2, b: 3)
        var values = (0..<20_000).map { PlotPoint(Double($0), 1 + Double($0 % 7) * 0.01) }
        values[12_345].y = 50  // one spike
        var chart = LineChart(title: "", xLabel: "step", yLabel: "loss", series: [LineSeries(name: "loss", points: values, color: color)])
        chart.width = 400
        let line = try! XCTUnwrap(polylines(chart.scene(), color: color).first { $0.count > 2 })
        XCTAssertLessThanOrEqual(line.count, 2 * 400)
        let top = line.map(\.y).min()!
        let frameTop = chart.scene().items.compactMap { item -> Double? in
            if case let .rectangle(_, y, _, _, nil, PlotPalette.axis?) = item { return y } else { return nil }
        }.first!
        XCTAssertEqual(top, frameTop, accuracy: 1, "the spike reaches the top of the plot")
    }
}
