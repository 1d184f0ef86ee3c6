// `vision checkpoint convert model.tflite out.safetensors` end to end: the TFLite
// MobileNetV2 becomes a torchvision mobilenet_v2 state dict; the output rules are
// those of every convert; a damaged or foreign .tflite is one error line naming it.

import Foundation
import VisionCheckpoint
import XCTest

final class TFLiteConvertCLITests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws { scratch = try CLI.temporaryDirectory("tflite") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func sharedModel() throws -> URL {
        let name = "mobilenet_v2_1.0_224_quant.tflite"
        let candidates = [CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/weights/\(name)"),
                          URL(fileURLWithPath: "/work/shared/weights/\(name)")]
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw XCTSkip("../shared/weights/\(name) (or /work/shared/weights/) not present: tflite convert not checked")
        }
        return url
    }

    func testConvertsTheTFLiteModelAndKeepsTheOutputRules() throws {
        let model = try sharedModel()
        let env = CLI.environment(home: scratch)
        let output = scratch.appendingPathComponent("mobilenet_v2.safetensors")
        let result = try CLI.run(["checkpoint", "convert", model.path, output.path], environment: env, scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("(tflite, 314 tensors) -> \(output.path)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("input: UINT8 (1, 224, 224, 3) scale=0.0078125 zero_point=128"), result.stdout)
        let (state, format) = try loadStateDict(from: output)
        XCTAssertEqual(format, .safetensors)
        XCTAssertEqual(state.count, 314)
        XCTAssertEqual(state["classifier.1.weight"]?.shape, [1000, 1280])
        XCTAssertEqual(state.metadata["input_mean"], "0.5,0.5,0.5")
        XCTAssertEqual(state.metadata["input_std"], "0.5,0.5,0.5")

        // An existing output is refused without --overwrite and left as it was.
        let before = try Data(contentsOf: output)
        let again = try CLI.run(["checkpoint", "convert", model.path, output.path], environment: env, scratch: scratch)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("exists; refusing to overwrite it"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: output), before)

        // The TFLite identifier is enough without the extension; .pth output works too.
        let renamed = scratch.appendingPathComponent("mobilenet_v2.model")
        try FileManager.default.copyItem(at: model, to: renamed)
        let pth = scratch.appendingPathComponent("mobilenet_v2.pth")
        let viaPth = try CLI.run(["checkpoint", "convert", renamed.path, pth.path], environment: env, scratch: scratch)
        XCTAssertEqual(viaPth.status, 0, viaPth.stderr)
        XCTAssertEqual(try loadStateDict(from: pth).0.count, 314)
    }

    func testDamagedTFLiteIsOneErrorLineNamingTheFile() throws {
        let model = try sharedModel()
        let env = CLI.environment(home: scratch)
        let truncated = scratch.appendingPathComponent("cut.tflite")
        try Data(try Data(contentsOf: model).prefix(1_000_000)).write(to: truncated)
        let notTFLite = scratch.appendingPathComponent("notes.tflite")
        try Data("plain text, not a flatbuffer\n".utf8).write(to: notTFLite)
        for (input, problem) in [(truncated, "truncated file"), (notTFLite, "not a TFLite model")] {
            let output = scratch.appendingPathComponent(input.deletingPathExtension().lastPathComponent + ".safetensors")
            let result = try CLI.run(["checkpoint", "convert", input.path, output.path], environment: env, scratch: scratch)
            XCTAssertNotEqual(result.status, 0)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(input.lastPathComponent) && result.stderr.contains(problem), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "a failed convert left \(output.lastPathComponent)")
        }
    }
}
