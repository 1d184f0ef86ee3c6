// The trainable fasterrcnn_mobilenet_v2_fpn: it takes every weight of the reduced-width
// parity fixture under torchvision's keys and gives them back unchanged; an ImageNet
// classifier's state dict (features.*, classifier.*) starts the body only; frozen stages
// follow torchvision's mobilenet_backbone.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionTraining
import XCTest

final class MobileNetV2TrainingTests: XCTestCase {
    func fixture() throws -> (ModelConfig, StateDict) { try fixtureModel(named: "fasterrcnn_mobilenet_v2_fpn") }

    func testTakesAndExportsEveryFixtureWeight() throws {
        let (config, state) = try fixture()
        try assertTakesAndExportsEveryWeight(config: config, state: state, trainableBackboneLayers: 6)
    }

    func testClassifierStateDictStartsTheBodyOnly() throws {
        let (config, detector) = try fixture()
        // The classification model's layout: features.* + classifier.1 + BN counters.
        var pairs: [(String, Tensor)] = detector.keys.filter { $0.hasPrefix("backbone.body.") }.map {
            ("features." + $0.dropFirst("backbone.body.".count), detector[$0]!)
        }
        pairs.append(("features.0.1.num_batches_tracked", Tensor(shape: [], values: [0])))
        pairs.append(("classifier.1.weight", Tensor(shape: [10, 1280], repeating: 0.5)))
        pairs.append(("classifier.1.bias", Tensor(shape: [10], repeating: 0)))
        let imagenet = StateDict(pairs)
        var fresh = config
        fresh.numClasses = 4
        let model = try TrainableFasterRCNN(config: fresh, stateDict: imagenet, source: "imagenet", trainableBackboneLayers: 3, seed: 5)
        let exported = model.stateDict()
        for key in detector.keys where key.hasPrefix("backbone.body.") {
            XCTAssertEqual(exported[key]?.values, detector[key]?.values, "\(key) comes from features.*")
        }
        let initialised = Set(model.parameters.initialized)
        XCTAssertFalse(initialised.contains { $0.hasPrefix("backbone.body.") }, "no body weight is initialised")
        let rest = Set(exported.keys.filter { !$0.hasPrefix("backbone.body.") })
        XCTAssertEqual(initialised, rest, "everything outside the body is initialised")
        XCTAssertEqual(exported["roi_heads.box_predictor.cls_score.weight"]?.shape.first, 4)
        XCTAssertFalse(exported.keys.contains { $0.hasPrefix("classifier") || $0.hasPrefix("features") })

        // A classifier state dict missing a body weight is refused, naming the key.
        let broken = StateDict(pairs.filter { $0.0 != "features.5.conv.1.0.weight" })
        XCTAssertThrowsError(try TrainableFasterRCNN(config: fresh, stateDict: broken, source: "broken.safetensors",
                                                     trainableBackboneLayers: 3)) { error in
            XCTAssertTrue("\(error)".contains("backbone.body.5.conv.1.0.weight"), "\(error)")
            XCTAssertTrue("\(error)".contains("broken.safetensors"), "\(error)")
        }
    }

    func testTrainableLayersFreezeTorchvisionsStages() throws {
        let (config, state) = try fixture()
        // stage_indices [0, 2, 4, 7, 14, 18]: K trainable layers leave features[stageIndices[6 - K]...] trainable.
        for (k, firstTrainable) in [(0, 19), (1, 18), (3, 7), (5, 2), (6, 0)] {
            let model = try TrainableFasterRCNN(config: config, stateDict: state, trainableBackboneLayers: k)
            let trainableBody = Set(model.trainableParameters.map(\.key).filter { $0.hasPrefix("backbone.body.") }
                .map { Int($0.split(separator: ".")[2])! })
            XCTAssertEqual(trainableBody, Set(firstTrainable..<19), "trainable layers \(k)")
            XCTAssertTrue(model.trainableParameters.contains { $0.key.hasPrefix("backbone.fpn.") }, "the FPN always trains")
        }
    }
}
