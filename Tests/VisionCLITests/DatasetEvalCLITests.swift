// Issue 19 through the built binary: `vision dataset inspect --decode`,
// `--images/--annotations` for inspect and eval, and eval's warning on a
// predictions file written with a probability threshold.

import Foundation
import XCTest

final class DatasetEvalCLITests: XCTestCase {
    let models = CLI.repoRoot.appendingPathComponent("Models")
    let sample = CLI.repoRoot.appendingPathComponent("Samples/bccd")

    /// A copy of Samples/bccd with one JPEG cut in half, one emptied and one replaced by text.
    func damagedSample(in scratch: URL) throws -> URL {
        let copy = scratch.appendingPathComponent("bccd")
        try FileManager.default.copyItem(at: sample, to: copy)
        let images = copy.appendingPathComponent("JPEGImages")
        let cut = images.appendingPathComponent("BloodImage_00011.jpg")
        let bytes = try Data(contentsOf: cut)
        try bytes.prefix(bytes.count / 2).write(to: cut)
        try Data().write(to: images.appendingPathComponent("BloodImage_00015.jpg"))
        try Data("not an image\n".utf8).write(to: images.appendingPathComponent("BloodImage_00016.jpg"))
        return copy
    }

    func testInspectDecodeReportsEveryUndecodableImage() throws {
        let scratch = try CLI.temporaryDirectory("inspect-decode")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let dataset = try damagedSample(in: scratch)
        let env = CLI.environment(models: models, home: scratch)
        let images = dataset.appendingPathComponent("JPEGImages")

        // Headers only: the empty and the text file, not the truncated JPEG.
        let fast = try CLI.run(["dataset", "inspect", dataset.path], environment: env, scratch: scratch)
        XCTAssertEqual(fast.status, 0, fast.stderr)
        XCTAssertTrue(fast.stdout.contains("problems: 2"), fast.stdout)
        XCTAssertFalse(fast.stdout.contains("BloodImage_00011.jpg: undecodable"), fast.stdout)

        let full = try CLI.run(["dataset", "inspect", dataset.path, "--decode"], environment: env, scratch: scratch)
        XCTAssertEqual(full.status, 0, full.stderr)
        XCTAssertTrue(full.stdout.contains("problems: 3"), full.stdout)
        XCTAssertTrue(full.stdout.contains("test: 5 images"), full.stdout)
        let lines = full.stdoutLines.filter { $0.contains("undecodable image") }
        XCTAssertEqual(lines.count, 3, full.stdout)
        XCTAssertTrue(lines.contains { $0.contains(images.appendingPathComponent("BloodImage_00011.jpg").path)
            && $0.contains("Premature end of JPEG file") }, full.stdout)
        XCTAssertTrue(lines.contains { $0.contains("BloodImage_00015.jpg") && $0.contains("empty file") }, full.stdout)
        XCTAssertTrue(lines.contains { $0.contains("BloodImage_00016.jpg") && $0.contains("not a JPEG or PNG") }, full.stdout)
    }

    /// A lower-case layout with the XMLs and the images in folders of any name.
    func testImagesAndAnnotationsOptions() throws {
        let scratch = try CLI.temporaryDirectory("images-annotations")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let fm = FileManager.default
        let pictures = scratch.appendingPathComponent("pictures"), xml = scratch.appendingPathComponent("labels-xml")
        try fm.copyItem(at: sample.appendingPathComponent("JPEGImages"), to: pictures)
        try fm.copyItem(at: sample.appendingPathComponent("Annotations"), to: xml)
        let env = CLI.environment(models: models, home: scratch)

        let inspect = try CLI.run(["dataset", "inspect", "--images", pictures.path, "--annotations", xml.path],
                                  environment: env, scratch: scratch)
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("format:  Pascal VOC"), inspect.stdout)
        XCTAssertTrue(inspect.stdout.contains("all: 8 images"), inspect.stdout)
        XCTAssertTrue(inspect.stdout.contains("problems: 0"), inspect.stdout)

        let predictions = scratch.appendingPathComponent("p.jsonl")
        let predict = try CLI.run(["predict", pictures.path, "--min-prob", "0", "--output", predictions.path],
                                  environment: env, scratch: scratch)
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let eval = try CLI.run(["eval", "--images", pictures.path, "--annotations", xml.path, "--predictions", predictions.path],
                               environment: env, scratch: scratch)
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("split all: 8 images, 148 boxes"), eval.stdout)

        let half = try CLI.run(["dataset", "inspect", "--images", pictures.path], environment: env, scratch: scratch)
        XCTAssertNotEqual(half.status, 0)
        XCTAssertTrue(half.stderr.contains("--images and --annotations go together"), half.stderr)
        let both = try CLI.run(["eval", "--dataset", sample.path, "--images", pictures.path, "--annotations", xml.path,
                                "--predictions", predictions.path], environment: env, scratch: scratch)
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("not both"), both.stderr)
    }

    /// `predict` at the default --min-prob 0.5, then `eval`: one warning line naming
    /// the file and --min-prob 0; `predict --min-prob 0` output gets none. metrics.json
    /// keeps its documented keys either way.
    func testEvalWarnsOnThresholdedPredictions() throws {
        let scratch = try CLI.temporaryDirectory("eval-threshold")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let env = CLI.environment(models: models, home: scratch)
        let images = sample.appendingPathComponent("JPEGImages")
        var ap50: [String: Double] = [:]
        for minProb in ["0.5", "0"] {
            let predictions = scratch.appendingPathComponent("p\(minProb).jsonl"), metrics = scratch.appendingPathComponent("m\(minProb).json")
            let predict = try CLI.run(["predict", images.path, "--min-prob", minProb, "--output", predictions.path],
                                      environment: env, scratch: scratch)
            XCTAssertEqual(predict.status, 0, predict.stderr)
            let eval = try CLI.run(["eval", "--dataset", sample.path, "--predictions", predictions.path, "--output", metrics.path],
                                   environment: env, scratch: scratch)
            XCTAssertEqual(eval.status, 0, eval.stderr)
            let warnings = eval.stderr.split(separator: "\n").filter { $0.contains("looks thresholded") }
            if minProb == "0" {
                XCTAssertEqual(warnings.count, 0, eval.stderr)
            } else {
                XCTAssertEqual(warnings.count, 1, eval.stderr)
                let warning = warnings.first ?? ""
                XCTAssertTrue(warning.hasPrefix("warning: \(predictions.path)"), eval.stderr)
                XCTAssertTrue(warning.contains("--min-prob 0"), eval.stderr)
            }
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: metrics)) as? [String: Any])
            XCTAssertEqual(Set(json.keys), ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100",
                                            "per_class_AP50", "VOC07_mAP"])
            ap50[minProb] = json["AP50"] as? Double
        }
        print("AP50 of thresholded vs full predictions: \(ap50)")
        XCTAssertLessThan(try XCTUnwrap(ap50["0.5"]), try XCTUnwrap(ap50["0"]))  // what the warning is about
    }
    /// `vision eval` scores ground truth as written: on the fixture whose boxes pass the
    /// border or have no area, its metrics.json equals pycocotools' (generate_eval.py).
    func testEvalScoresBoxesPastTheBorderAsPycocotools() throws {
        let scratch = try CLI.temporaryDirectory("eval-border")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let fixtures = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/eval")
        let output = scratch.appendingPathComponent("metrics.json")
        let result = try CLI.run(["eval", "--predictions", fixtures.appendingPathComponent("predictions_border.jsonl").path,
                                  "--dataset", fixtures.appendingPathComponent("gt_border.json").path, "--output", output.path],
                                 environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("scored as written, as pycocotools does"), result.stderr)
        // Rerunning replaces its own metrics; a user's file is refused and left as it was.
        let rerun = try CLI.run(["eval", "--predictions", fixtures.appendingPathComponent("predictions_border.jsonl").path,
                                 "--dataset", fixtures.appendingPathComponent("gt_border.json").path, "--output", output.path],
                                environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        let notes = scratch.appendingPathComponent("notes.json")
        try Data("{\"mine\": true}".utf8).write(to: notes)
        let refused = try CLI.run(["eval", "--predictions", fixtures.appendingPathComponent("predictions_border.jsonl").path,
                                   "--dataset", fixtures.appendingPathComponent("gt_border.json").path, "--output", notes.path],
                                  environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("is not metrics written by vision eval"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: notes), Data("{\"mine\": true}".utf8))
        let metrics = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: fixtures.appendingPathComponent("expected_border.json"))) as? [String: Any])
        let stats = try XCTUnwrap(expected["stats"] as? [Double])
        for (i, key) in ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100"].enumerated() {
            XCTAssertEqual(try XCTUnwrap(metrics[key] as? Double), stats[i], accuracy: 1e-4, key)
        }
    }
}
