// The shipped default model (Models/default.safetensors, the BCCD blood-cell detector):
// `vision predict IMAGE` with no --checkpoint uses it, and on the eight BCCD test images in
// Samples/bccd (never trained on) it still scores what it scored when it was shipped.

import Foundation
import XCTest

final class DefaultModelCLITests: XCTestCase {
    let models = CLI.repoRoot.appendingPathComponent("Models")
    let sample = CLI.repoRoot.appendingPathComponent("Samples/bccd")

    func testPredictWithoutCheckpointUsesTheShippedBloodCellModel() throws {
        let scratch = try CLI.temporaryDirectory("default-predict")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let image = sample.appendingPathComponent("JPEGImages/BloodImage_00007.jpg")
        let result = try CLI.run(["predict", image.path], environment: CLI.environment(models: models, home: scratch), scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        let records = try CLI.records(result.stdout)
        XCTAssertEqual(records.count, 1)
        let objects = try XCTUnwrap(records.first?.object["objects"] as? [[String: Any]])
        let labels = objects.compactMap { $0["label"] as? String }
        print("default model on BloodImage_00007: \(labels.count) objects, \(Dictionary(grouping: labels) { $0 }.mapValues(\.count))")
        // The annotation has 1 WBC and 17 RBC; at the default --min-prob 0.5 the model must find the WBC
        // and most red cells, and nothing outside the three classes.
        XCTAssertEqual(Set(labels).subtracting(["WBC", "RBC", "Platelets"]), [])
        XCTAssertEqual(labels.filter { $0 == "WBC" }.count, 1)
        XCTAssertGreaterThanOrEqual(labels.filter { $0 == "RBC" }.count, 10)
    }

    func testShippedModelScoresOnTheSampleTestImages() throws {
        let scratch = try CLI.temporaryDirectory("default-eval")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let metricsFile = scratch.appendingPathComponent("metrics.json")
        let result = try CLI.run(["eval", "--checkpoint", models.appendingPathComponent("default.safetensors").path,
                                  "--dataset", sample.path, "--split", "test", "--quiet", "--output", metricsFile.path],
                                 environment: CLI.environment(models: models, home: scratch), scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: metricsFile)) as? [String: Any])
        let ap = try XCTUnwrap(metrics["AP"] as? Double), ap50 = try XCTUnwrap(metrics["AP50"] as? Double)
        print("default model on Samples/bccd (8 test images): AP \(ap), AP50 \(ap50)")
        // Measured when shipped: AP 0.547, AP50 0.899 (the whole 72-image test split: 0.567 / 0.882).
        XCTAssertGreaterThan(ap50, 0.85)
        XCTAssertGreaterThan(ap, 0.5)
    }
}
