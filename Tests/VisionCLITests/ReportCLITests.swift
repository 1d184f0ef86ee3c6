// Issue 18 through the built binary: `vision eval --report` and `vision dataset
// inspect --report` on Samples/bccd. The numbers a report plots (its inline
// "report-data" JSON) must equal the command's metrics.json and the dataset's own
// annotations; a report folder holding a user's file is refused and left alone.

import Foundation
import XCTest

final class ReportCLITests: XCTestCase {
    let models = CLI.repoRoot.appendingPathComponent("Models")
    let sample = CLI.repoRoot.appendingPathComponent("Samples/bccd")

    /// The JSON block a report embeds (id "report-data").
    static func reportData(_ html: String) throws -> [String: Any] {
        let open = "<script type=\"application/json\" id=\"report-data\">"
        let start = try XCTUnwrap(html.range(of: open), "no report-data block").upperBound
        let end = try XCTUnwrap(html.range(of: "</script>", range: start..<html.endIndex)).lowerBound
        let text = html[start..<end].replacingOccurrences(of: "<\\/", with: "</")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Objects per class name in the VOC annotations of the sample's test split, read here
    /// from the XML text (independently of vision's reader).
    func groundTruthCounts() throws -> [String: Int] {
        let ids = try String(contentsOf: sample.appendingPathComponent("ImageSets/Main/test.txt"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).map(String.init)
        var counts: [String: Int] = [:]
        let pattern = try NSRegularExpression(pattern: "<object>.*?<name>\\s*([^<]+?)\\s*</name>", options: [.dotMatchesLineSeparators])
        for id in ids {
            let xml = try String(contentsOf: sample.appendingPathComponent("Annotations/\(id).xml"), encoding: .utf8)
            for match in pattern.matches(in: xml, range: NSRange(xml.startIndex..., in: xml)) {
                counts[String(xml[Range(match.range(at: 1), in: xml)!]), default: 0] += 1
            }
        }
        return counts
    }

    func testEvalReportPlotsTheNumbersOfMetricsJSON() throws {
        let scratch = try CLI.temporaryDirectory("eval-report")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let env = CLI.environment(models: models, home: scratch)
        let report = scratch.appendingPathComponent("report"), metricsFile = scratch.appendingPathComponent("metrics.json")
        let run = try CLI.run(["eval", "--dataset", sample.path, "--split", "test", "--quiet",
                               "--output", metricsFile.path, "--report", report.path], environment: env, scratch: scratch)
        XCTAssertEqual(run.status, 0, run.stderr)
        let metrics = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: metricsFile)) as? [String: Any])
        let perClassAP50 = try XCTUnwrap(metrics["per_class_AP50"] as? [String: Double])
        let html = try String(contentsOf: report.appendingPathComponent("report.html"), encoding: .utf8)
        let data = try Self.reportData(html)
        let classes = try XCTUnwrap(data["classes"] as? [[String: Any]])
        XCTAssertEqual(Set(classes.compactMap { $0["name"] as? String }), Set(perClassAP50.keys))

        // The PR curve's area at IoU 0.5, computed as COCOeval computes AP (the mean of the
        // 101-point interpolated precision), is the class's AP50 of metrics.json.
        for c in classes {
            let name = try XCTUnwrap(c["name"] as? String)
            let curve = try XCTUnwrap(c["precision_iou50"] as? [Double], name)
            XCTAssertEqual(curve.count, 101)
            XCTAssertEqual(curve.reduce(0, +) / Double(curve.count), try XCTUnwrap(perClassAP50[name]), accuracy: 1e-12, name)
            XCTAssertEqual(try XCTUnwrap(c["precision_iou75"] as? [Double]).count, 101)
        }
        let plottedMetrics = try XCTUnwrap(data["metrics"] as? [String: Any])
        for key in ["AP", "AP50", "AP75", "AR100", "VOC07_mAP"] {
            XCTAssertEqual(try XCTUnwrap(plottedMetrics[key] as? Double), try XCTUnwrap(metrics[key] as? Double), accuracy: 1e-12, key)
        }

        // The confusion matrix's class rows sum to the objects of each class in the annotations.
        let matrix = try XCTUnwrap(data["confusion_matrix"] as? [[Int]])
        let labels = try XCTUnwrap(data["confusion_labels"] as? [String])
        XCTAssertEqual(labels.last, "background")
        XCTAssertEqual(matrix.count, labels.count)
        let expected = try groundTruthCounts()
        XCTAssertFalse(expected.isEmpty)
        for (row, name) in labels.dropLast().enumerated() {
            XCTAssertEqual(matrix[row].reduce(0, +), expected[name] ?? 0, "row \(name)")
        }

        // Self-contained, and the PNGs are PNGs.
        XCTAssertFalse(html.contains("src=\"http") || html.contains("href=\"http"), "nothing fetched")
        for name in ["pr_curves_iou50.png", "pr_curves_iou75.png", "confusion_matrix.png", "ap50_per_class.png", "worst_1.png"] {
            let bytes = try Data(contentsOf: report.appendingPathComponent(name))
            XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], name)
        }

        // Writing again into the same report folder replaces the earlier report.
        let again = try CLI.run(["eval", "--dataset", sample.path, "--quiet", "--report", report.path], environment: env, scratch: scratch)
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    func testReportFolderHoldingAUsersFileIsRefusedAndKept() throws {
        let scratch = try CLI.temporaryDirectory("report-refuse")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let env = CLI.environment(models: models, home: scratch)
        let folder = scratch.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let notes = folder.appendingPathComponent("report.html")
        try Data("my own page\n".utf8).write(to: notes)
        for arguments in [["eval", "--dataset", sample.path, "--quiet", "--report", folder.path],
                          ["dataset", "inspect", sample.path, "--report", folder.path]] {
            let run = try CLI.run(arguments, environment: env, scratch: scratch)
            XCTAssertNotEqual(run.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains("\(folder.path): holds files this report did not write (report.html)"), run.stderr)
            XCTAssertEqual(try String(contentsOf: notes, encoding: .utf8), "my own page\n")
        }
    }

    func testDatasetReportPlotsTheAnnotationsAgainstTheModelsAnchors() throws {
        let scratch = try CLI.temporaryDirectory("dataset-report")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let env = CLI.environment(models: models, home: scratch)
        let report = scratch.appendingPathComponent("report")
        let run = try CLI.run(["dataset", "inspect", sample.path, "--report", report.path], environment: env, scratch: scratch)
        XCTAssertEqual(run.status, 0, run.stderr)
        let data = try Self.reportData(try String(contentsOf: report.appendingPathComponent("report.html"), encoding: .utf8))
        let classes = try XCTUnwrap(data["classes"] as? [String])
        let splits = try XCTUnwrap(data["splits"] as? [[String: Any]])
        XCTAssertEqual(splits.count, 1)
        let perClass = try XCTUnwrap(splits[0]["boxes_per_class"] as? [Int])
        let expected = try groundTruthCounts()
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: zip(classes, perClass)), expected)
        let total = expected.values.reduce(0, +)
        for key in ["width_counts", "height_counts", "aspect_counts"] {
            XCTAssertEqual(try XCTUnwrap(data[key] as? [Int]).reduce(0, +), total, key)
        }
        // The anchors are the default architecture's, as its definition lists them.
        XCTAssertEqual(data["model"] as? String, "fasterrcnn_mobilenet_v2_fpn")
        let definition = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf:
            models.appendingPathComponent("fasterrcnn_mobilenet_v2_fpn.json"))) as? [String: Any])
        let anchors = Set(try XCTUnwrap(definition["anchorSizes"] as? [[Double]]).flatMap { $0 })
        XCTAssertEqual(Set(try XCTUnwrap(data["anchor_sizes"] as? [Double])), anchors)
        let bad = try CLI.run(["dataset", "inspect", sample.path, "--report", report.path, "--model", "nope"], environment: env, scratch: scratch)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown --model 'nope'"), bad.stderr)
    }
}
