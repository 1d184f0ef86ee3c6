// report.html and loss_curve.png of a run, drawn from metrics.jsonl alone: the
// numbers the page plots are those of the file, the best epoch is the one of
// highest validation AP, and a folder holding only a report still counts as a run.

import Foundation
import VisionData
import VisionImaging
import VisionTraining
import XCTest

final class TrainingReportTests: XCTestCase {
    /// A metrics.jsonl of 3 epochs x 4 steps, in the form a run writes (dataset line,
    /// iteration lines, epoch lines with validation), and its lines parsed independently.
    func writeRun(_ run: URL) throws -> [[String: Any]] {
        var lines = [#"{"kind":"dataset","global_step":0,"images":8,"left_out_images":1,"problems":{"zero-area box":1}}"#]
        var step = 0
        for epoch in 0..<3 {
            for s in 0..<4 {
                step += 1
                lines.append(#"{"kind":"iteration","epoch":\#(epoch),"step":\#(s),"global_step":\#(step),"lr":\#(0.001 * Double(step)),"#
                             + #""loss":\#(2.0 / Double(step)),"loss_objectness":0.1,"loss_rpn_box_reg":\#(0.2 / Double(step)),"#
                             + #""loss_classifier":\#(1.0 / Double(step)),"loss_box_reg":0.5,"images_per_s":\#(Double(step) + 0.25),"skipped_images":0}"#)
            }
            let ap = [0.2, 0.5, 0.4][epoch]
            lines.append(#"{"kind":"epoch","epoch":\#(epoch),"global_step":\#(step),"mean_loss":0.5,"seconds":10,"skipped_images":0,"#
                         + #""validation":{"AP":\#(ap),"AP50":\#(ap + 0.3),"AP75":\#(ap),"APs":-1,"APm":\#(ap),"APl":\#(ap),"#
                         + #""AR1":\#(ap),"AR10":\#(ap),"AR100":\#(ap + 0.1),"per_class_AP50":{"square":\#(ap)},"VOC07_mAP":\#(ap)}}"#)
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: run.appendingPathComponent("metrics.jsonl"))
        return try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    func reportData(_ html: String) throws -> [String: Any] {
        let open = "<script type=\"application/json\" id=\"report-data\">"
        let start = try XCTUnwrap(html.range(of: open)).upperBound
        let end = try XCTUnwrap(html.range(of: "</script>", range: start..<html.endIndex)).lowerBound
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(html[start..<end].utf8)) as? [String: Any])
    }

    func testReportPlotsTheNumbersOfMetricsJSONL() throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: run) }
        let lines = try writeRun(run)
        let iterations = lines.filter { $0["kind"] as? String == "iteration" }
        let epochs = lines.filter { $0["kind"] as? String == "epoch" }
        let history = TrainingHistory(directory: run)
        XCTAssertEqual(history.iterations.count, 12)
        XCTAssertEqual(history.epochs.count, 3)
        XCTAssertEqual(history.bestEpoch?.epoch, 1)
        func column(_ key: String) -> [Float] { iterations.map { Float($0[key] as! Double) } }

        var options = TrainingOptions.defaults(epochs: 5, batchSize: 2)
        options.datasetPath = "/data/set"
        try TrainingReport(history: history, options: options, classes: ["__background__", "square"]).write(to: run)
        let html = try String(contentsOf: run.appendingPathComponent(TrainingReport.fileName), encoding: .utf8)
        let data = try reportData(html)
        XCTAssertEqual(data["global_step"] as? [Int], iterations.map { $0["global_step"] as! Int })
        for key in ["loss", "loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "lr"] {
            XCTAssertEqual((data[key] as? [Double])?.map(Float.init), column(key), key)
        }
        XCTAssertEqual(data["images_per_s"] as? [Double], iterations.map { $0["images_per_s"] as! Double })
        let plottedEpochs = try XCTUnwrap(data["epochs"] as? [[String: Any]])
        for key in ["AP", "AP50", "AR100"] {
            XCTAssertEqual(plottedEpochs.compactMap { $0[key] as? Double },
                           epochs.map { ($0["validation"] as! [String: Any])[key] as! Double }, key)
        }
        XCTAssertEqual(data["best_epoch"] as? Int, 2, "1-based, as the page shows epochs")
        XCTAssertTrue(html.contains("best: epoch 2, AP 0.500"))
        XCTAssertTrue(html.contains("<td>2 (best)</td>"))
        for text in ["loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "learning rate",
                     "images per second", "/data/set", "zero-area box 1"] {
            XCTAssertTrue(html.contains(text), "missing \(text)")
        }
        XCTAssertFalse(html.contains("src=\"http"), "nothing fetched")

        // loss_curve.png: a chart with the total loss series' colour, from the same history.
        let png = run.appendingPathComponent(LossCurvePlot.fileName)
        try LossCurvePlot.write(history, to: png)
        let image = try ImageDecoder.decode(contentsOf: png)
        XCTAssertEqual(image.width, 800)
        XCTAssertEqual(image.height, 400)
        let scene = LossCurvePlot.chart(history).scene()
        XCTAssertTrue(scene.svg().contains("loss_box_reg"), "a legend names the components")
    }

    func testAFolderHoldingOnlyAReportIsARun() throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("report-only-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: run) }
        try Data("<html></html>".utf8).write(to: run.appendingPathComponent("report.html"))
        XCTAssertEqual(RunFolder.existingRunFiles(in: run), ["report.html"])
        XCTAssertThrowsError(try RunFolder.claim(run, overwrite: false)) { XCTAssertTrue($0 is RunFolder.Occupied) }
    }
}
