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
func fixtureModel() throws -> (ModelConfig, StateDict) { try fixtureModel(named: "fasterrcnn_mobilenet_v3_large_fpn") }

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
        let permutations = try (0..<f.param("step", "perms")).map { try f.integers("step_perm_\($0)") }
        let torchProposals = try (0..<2).map { Boxes(coordinates: try f.array("step_proposals_\($0)")) }

        // 1. The RPN's own proposals: top-k and NMS decide between near-tied scores, so a
        //    handful may differ from torch's (torch float32 vs float64 differ likewise).
        let ownTrace = TrainingStepTrace()
        var ownPerms = RecordedPermutations(permutations)
        let ownLosses = model.forwardBackward(batch, permutations: &ownPerms, trace: ownTrace, threads: .allCores)
        for i in 0..<2 {
            let got = ownTrace.proposals[i], want = torchProposals[i]
            XCTAssertEqual(got.count, want.count, "image \(i): proposal count")
            let same = (0..<min(got.count, want.count)).filter { r in
                (0..<4).allSatisfy { abs(got.coordinates[r * 4 + $0] - want.coordinates[r * 4 + $0]) <= 1e-2 }
            }.count
            print("image \(i): \(same) of \(want.count) proposals equal torch's, in the same rank")
            XCTAssertGreaterThanOrEqual(Double(same), 0.97 * Double(want.count), "image \(i): proposals")
        }
        assertRelative(ownLosses.total, try ["objectness", "rpn_box_reg", "classifier", "box_reg"].map {
            try f.array("step_loss_\($0)")[0] }.reduce(0, +), tolerance: 1e-3, "total loss with vision's own proposals")

        // 2. With torch's proposals: every loss and gradient downstream must match.
        model.zeroGrad()
        let trace = TrainingStepTrace()
        var perms = RecordedPermutations(permutations)
        let losses = model.forwardBackward(batch, permutations: &perms, proposals: torchProposals, trace: trace, threads: .allCores)
        XCTAssertTrue(perms.remaining.isEmpty, "the samplers must draw exactly torch's permutations")
        for i in 0..<2 {
            assertRelative(trace.sampledProposals[i].coordinates, try f.array("step_sampled_proposals_\(i)"),
                           tolerance: 1e-6, "image \(i): RoIs sampled for the box head (GT appended)")
        }

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
