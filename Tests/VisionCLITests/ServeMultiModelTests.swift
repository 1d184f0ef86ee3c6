// `vision serve` with several checkpoints: each is listed and chosen per request by
// name, answering as `vision predict --checkpoint <it>` does; --model pairs with
// the checkpoints in order.

import Foundation
import XCTest

final class ServeMultiModelTests: XCTestCase {
    func testSeveralModelsAreChosenPerRequest() throws {
        let fixture = CLI.fixtureCheckpoint
        let server = try ServeProcess(["--checkpoint", ServeProcess.models.appendingPathComponent("default.safetensors").path,
                                       "--checkpoint", fixture.path, "--model", "fasterrcnn_mobilenet_v2_fpn",
                                       "--model", CLI.fixtureModelName], name: "models", models: CLI.fixtureModels)
        defer { server.stop() }
        let list = try XCTUnwrap(try server.get("/api/v1/models").json()["models"] as? [[String: Any]])
        XCTAssertEqual(list.compactMap { $0["name"] as? String }, ["default", "fasterrcnn_mobilenet_v3_large_fpn"])
        XCTAssertEqual(list.compactMap { $0["architecture"] as? String }, ["fasterrcnn_mobilenet_v2_fpn", CLI.fixtureModelName])
        XCTAssertEqual(list.compactMap { $0["default"] as? Bool }, [true, false])
        XCTAssertEqual((list[1]["classes"] as? [Any])?.count, 80, "COCO's 80 named classes")

        // The second model's answer is `vision predict --checkpoint <it>`'s line; the first's differs.
        let image = CLI.fixtureModels.appendingPathComponent("pets.png")
        let scratch = try CLI.temporaryDirectory("serve-models-predict")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let predicted = try CLI.run(["predict", "--quiet", "--min-prob", "0.05", image.path] + CLI.modelArguments,
                                    environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        let viaFixture = try server.predictMultipart(image: try Data(contentsOf: image), filename: image.path,
                                                     query: "?model=fasterrcnn_mobilenet_v3_large_fpn&min_prob=0.05")
        XCTAssertEqual(viaFixture.status, 200, viaFixture.text)
        XCTAssertEqual(viaFixture.text, predicted.stdout)
        XCTAssertFalse((try viaFixture.json()["objects"] as? [Any] ?? []).isEmpty)
        let viaDefault = try server.predictMultipart(image: try Data(contentsOf: image), filename: image.path, query: "?min_prob=0.05")
        XCTAssertEqual(viaDefault.status, 200)
        XCTAssertNotEqual(viaDefault.text, predicted.stdout)

        let refused = try CLI.run(["serve", "--checkpoint", fixture.path, "--checkpoint", fixture.path, "--model", "fasterrcnn_mobilenet_v2_fpn",
                                   "--model", CLI.fixtureModelName, "--model", CLI.fixtureModelName],
                                  environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--model was given 3 times for 2 --checkpoint"), refused.stderr)
    }
}
