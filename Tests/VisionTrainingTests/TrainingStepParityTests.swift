// One full Faster R-CNN training step against torchvision (fixture section step_* of
// Tests/Fixtures/generate_training.py): the reduced-width mobilenet_v3_large_fpn fixture
// model, pets.png + hot_dog_gray.png (padded batch) with GT boxes, torch's sampler
// permutations replayed. The four losses and the gradients of parameters from every
// part of the model (predictor, box head, RPN head, FPN, backbone stem, a depthwise
// conv, a squeeze-excitation conv) must match within 1e-3 relative.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionImaging
import VisionTraining
import XCTest

/// Tests/Fixtures/<relative>, found by walking up from this file to Package.swift.
func fixtureURL(_ relative: String) throws -> URL {
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
        let parent = dir.deletingLastPathComponent()
        if parent.path == dir.path { throw TrainingFixtureError("Package.swift not found above \(#filePath)") }
        dir = parent
    }
    return dir.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative)
}

/// The fixture model's definition and weights.
func fixtureModel() throws -> (ModelConfig, StateDict) {
    let config = try ModelConfig.load(file: try fixtureURL("model/fasterrcnn_mobilenet_v3_large_fpn.json"))
    let (state, _) = try loadStateDict(from: try fixtureURL("model/fasterrcnn_mobilenet_v3_large_fpn.safetensors"))
    return (config, state)
}

/// A fixture image as [3, H, W] in [0, 1].
func fixtureImage(_ name: String) throws -> Tensor {
    let t = try ImageDecoder.decode(contentsOf: try fixtureURL("model/\(name)")).toTensor()
    return t.reshaped(Array(t.shape.dropFirst()))
}

final class TrainingStepParityTests: XCTestCase {
    func testFullTrainingStepMatchesTorchvision() throws {
        let f = try TrainingFixtures.load()
        let (config, state) = try fixtureModel()
        let model = try TrainableFasterRCNN(config: config, stateDict: state, source: "fixture", trainableBackboneLayers: 6)
        XCTAssertTrue(model.parameters.initialized.isEmpty, "every weight comes from the fixture: \(model.parameters.initialized)")
        let samples = try ["pets.png", "hot_dog_gray.png"].enumerated().map { i, name in
            TrainingSample(image: try fixtureImage(name), boxes: Boxes(coordinates: try f.array("step_gt_\(i)")),
                           labels: try f.integers("step_gt_labels_\(i)"))
        }
        let batch = TrainingBatch(samples: samples, transform: model.transform)
        var perms = RecordedPermutations(try (0..<f.param("step", "perms")).map { try f.integers("step_perm_\($0)") })
        let trace = TrainingStepTrace()
        let losses = model.forwardBackward(batch, permutations: &perms, trace: trace)
        for i in 0..<2 {
            let want = try f.array("step_sampled_proposals_\(i)")
            let got = trace.sampledProposals[i].coordinates
            XCTAssertEqual(got.count, want.count, "image \(i): sampled RoIs")
            let rows = zip(stride(from: 0, to: min(got.count, want.count), by: 4), 0...).filter { o, _ in
                (0..<4).contains { abs(got[o + $0] - want[o + $0]) > 1e-2 }
            }.map(\.1)
            print("image \(i): \(rows.count) of \(want.count / 4) sampled RoIs differ: \(rows.prefix(10))")
        }
        XCTAssertTrue(perms.remaining.isEmpty, "the samplers must draw exactly torch's permutations")

        assertRelative(losses.objectness, try f.array("step_loss_objectness")[0], tolerance: 1e-3, "loss_objectness")
        assertRelative(losses.rpnBoxRegression, try f.array("step_loss_rpn_box_reg")[0], tolerance: 1e-3, "loss_rpn_box_reg")
        assertRelative(losses.classifier, try f.array("step_loss_classifier")[0], tolerance: 1e-3, "loss_classifier")
        assertRelative(losses.boxRegression, try f.array("step_loss_box_reg")[0], tolerance: 1e-3, "loss_box_reg")

        let byKey = Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.key, $0.variable) })
        guard let keys = (f.params["step"] as? [String: Any])?["parameters"] as? [String] else {
            throw TrainingFixtureError("training fixture: step.parameters missing")
        }
        XCTAssertFalse(keys.isEmpty)
        for key in keys {
            let grad = try XCTUnwrap(byKey[key]?.grad, "no gradient for \(key)")
            assertRelative(grad.values, try f.array("step_grad_\(key)"), tolerance: 1e-3, "gradient of \(key)")
        }
    }
}
