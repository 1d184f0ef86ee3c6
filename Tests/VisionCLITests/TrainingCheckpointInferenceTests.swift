// predict, eval and serve take a training checkpoint (runs/x/checkpoint.safetensors, the
// file --resume reads, with optimizer.*.momentum tensors and vision.training metadata)
// and use its model weights: each answers exactly as it does with the run's
// model.safetensors (which holds the same weights). They used to refuse it with
// "N unexpected keys: optimizer...".

import Foundation
import XCTest

final class TrainingCheckpointInferenceTests: XCTestCase {
    var scratch: URL!
    var dataset: URL!
    var run: URL!
    var env: [String: String] { CLI.environment(home: scratch.appendingPathComponent("home")) }
    var trainingCheckpoint: URL { run.appendingPathComponent("checkpoint.safetensors") }
    var modelFile: URL { run.appendingPathComponent("model.safetensors") }
    var image: URL { dataset.appendingPathComponent("JPEGImages/a.jpg") }

    override func setUpWithError() throws {
        scratch = try CLI.temporaryDirectory("train-ckpt-inference")
        dataset = try TinyVOC.make(in: scratch.appendingPathComponent("voc"), images: [.good("a"), .good("b")])
        run = scratch.appendingPathComponent("run")
        let trained = try CLI.run(["train", "--dataset", dataset.path, "--checkpoint", CLI.fixtureCheckpoint.path,
                                   "--model", CLI.fixtureModelName, "--epochs", "1", "--batch-size", "1", "--threads", "1",
                                   "--val-split", "none", "-o", run.path], environment: env, scratch: scratch)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let header = try String(decoding: Data(contentsOf: trainingCheckpoint).prefix(200_000), as: UTF8.self)
        XCTAssertTrue(header.contains("optimizer.") && header.contains("vision.training"), "a training checkpoint for the test")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func predict(_ checkpoint: URL) throws -> String {
        let result = try CLI.run(["predict", image.path, "--checkpoint", checkpoint.path, "--min-prob", "0", "--quiet"],
                                 environment: env, scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.stderr.contains("unexpected keys"), result.stderr)
        return result.stdout
    }

    func testPredictUsesATrainingCheckpointsWeights() throws {
        let viaCheckpoint = try predict(trainingCheckpoint)
        XCTAssertEqual(viaCheckpoint, try predict(modelFile))
        XCTAssertTrue(viaCheckpoint.contains("\"label\""), "some detection at --min-prob 0: \(viaCheckpoint)")
    }

    func testEvalUsesATrainingCheckpointsWeights() throws {
        func eval(_ checkpoint: URL) throws -> String {
            let result = try CLI.run(["eval", "--checkpoint", checkpoint.path, "--dataset", dataset.path, "--split", "train"],
                                     environment: env, scratch: scratch)
            XCTAssertEqual(result.status, 0, result.stderr)
            return result.stdout.replacingOccurrences(of: checkpoint.path, with: "CHECKPOINT")
        }
        let viaCheckpoint = try eval(trainingCheckpoint)
        XCTAssertTrue(viaCheckpoint.contains("AP50"), viaCheckpoint)
        XCTAssertEqual(viaCheckpoint, try eval(modelFile))
    }

    func testServeUsesATrainingCheckpointsWeights() throws {
        let server = try ServeProcess(["--checkpoint", trainingCheckpoint.path], name: "training-checkpoint", models: CLI.fixtureModels)
        defer { server.stop() }
        let answer = try server.predictMultipart(image: try Data(contentsOf: image), filename: image.path, query: "?min_prob=0")
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertFalse((try answer.json()["objects"] as? [Any] ?? []).isEmpty)
        XCTAssertEqual(answer.text, try predict(modelFile), "serve answers what predict prints with model.safetensors")
    }
}
