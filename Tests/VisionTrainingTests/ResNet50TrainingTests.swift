// The trainable fasterrcnn_resnet50_fpn (v1) on the reduced-width parity fixture
// (Tests/Fixtures/model/fasterrcnn_resnet50_fpn.*): it takes every weight under
// torchvision's keys and gives them back unchanged; trainable layers follow
// torchvision's resnet_fpn_backbone; its forward agrees with the inference model;
// a few SGD steps on two synthetic images make the loss fall.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionTraining
import XCTest

final class ResNet50TrainingTests: XCTestCase {
    func fixture() throws -> (ModelConfig, StateDict) { try fixtureModel(named: "fasterrcnn_resnet50_fpn") }

    func testTakesAndExportsEveryFixtureWeight() throws {
        let (config, state) = try fixture()
        XCTAssertEqual(config.batchNormEps, 0, "the COCO_V1 weights run FrozenBatchNorm2d with eps 0")
        try assertTakesAndExportsEveryWeight(config: config, state: state, trainableBackboneLayers: 5)
    }

    func testTrainableLayersFollowResnetFPNBackbone() throws {
        let (config, state) = try fixture()
        XCTAssertEqual(TrainableDetectionModels.trainableBackboneLayerRange(config.backbone), 0...5)
        // layers_to_train = ["layer4", "layer3", "layer2", "layer1", "conv1"][:K]
        let order = ["layer4", "layer3", "layer2", "layer1", "conv1"]
        for k in [0, 1, 3, 5] {
            let model = try TrainableFasterRCNN(config: config, stateDict: state, trainableBackboneLayers: k)
            let trainable = model.trainableParameters.map(\.key)
            let bodyModules = Set(trainable.filter { $0.hasPrefix("backbone.body.") }.map { String($0.split(separator: ".")[2]) })
            XCTAssertEqual(bodyModules, Set(order.prefix(k)), "trainable layers \(k)")
            // Exactly: every conv weight of those modules, nothing of the frozen batch norms.
            let expectedBody = state.keys.filter { key in
                key.hasPrefix("backbone.body.") && key.hasSuffix(".weight") && order.prefix(k).contains(String(key.split(separator: ".")[2]))
                    && (key.contains(".conv") || key.contains(".downsample.0."))
            }
            XCTAssertEqual(Set(trainable.filter { $0.hasPrefix("backbone.body.") }), Set(expectedBody), "trainable layers \(k)")
            let rest = Set(state.keys.filter { !$0.hasPrefix("backbone.body.") })
            XCTAssertEqual(Set(trainable.filter { !$0.hasPrefix("backbone.body.") }), rest, "FPN, RPN and box heads always train")
            XCTAssertFalse(trainable.contains { $0.contains("bn") || $0.contains("running_") }, "batch norms stay frozen")
        }
        XCTAssertThrowsError(try TrainableFasterRCNN(config: config, stateDict: state, trainableBackboneLayers: 6)) { error in
            XCTAssertTrue("\(error)".contains("0...5"), "\(error)")
            XCTAssertTrue("\(error)".contains("fasterrcnn_resnet50_fpn"), "\(error)")
        }
    }

    /// The training forward (FrozenBatchNorm as an affine, maxpool with padding, bottlenecks)
    /// against the inference model (batch norms folded into the convs): with the training
    /// proposal counts set to the test ones, the RPN proposals agree. Proposals depend on
    /// the body, the FPN and the RPN head, so this checks the body end to end through public API.
    func testTrainingForwardMatchesInference() throws {
        var (config, state) = try fixture()
        config.rpnPreNMSTopNTrain = config.rpnPreNMSTopNTest
        config.rpnPostNMSTopNTrain = config.rpnPostNMSTopNTest
        let inference = try FasterRCNN(config: config, stateDict: state, source: "fixture")
        let model = try TrainableFasterRCNN(config: config, stateDict: state, source: "fixture", trainableBackboneLayers: 5)
        let image = try fixtureImage("pets.png")
        var trace = FasterRCNN.Trace()
        _ = inference.detect([image], trace: &trace)

        let sample = TrainingSample(image: image, boxes: Boxes(coordinates: [40, 40, 200, 180]), labels: [1])
        let batch = TrainingBatch(samples: [sample], transform: model.transform)
        let inferenceBatch = try XCTUnwrap(trace.batch)
        XCTAssertEqual(batch.images.shape, inferenceBatch.shape)
        XCTAssertEqual(batch.images.values, inferenceBatch.values, "both sides see the same input")
        let stepTrace = TrainingStepTrace()
        var rng = TrainingRNG(seed: 1)
        let losses = model.forwardBackward(batch, permutations: &rng, trace: stepTrace, threads: .allCores)
        XCTAssertTrue(losses.total.isFinite, "\(losses)")

        let want = trace.proposals[0], got = stepTrace.proposals[0]
        XCTAssertEqual(got.count, want.count)
        // Top-k and NMS choose between near-tied scores; compare the leading proposals and
        // count how many of all match (folded vs unfolded batch norm differ in the last bits).
        let lead = min(50, got.count, want.count)
        var leadDiff: Float = 0
        for i in 0..<(lead * 4) { leadDiff = max(leadDiff, abs(got.coordinates[i] - want.coordinates[i])) }
        var matched = 0
        for i in 0..<min(got.count, want.count) {
            let d = (0..<4).map { abs(got.coordinates[i * 4 + $0] - want.coordinates[i * 4 + $0]) }.max()!
            if d < 1e-2 { matched += 1 }
        }
        print("resnet50 training vs inference proposals: \(got.count) vs \(want.count), max diff of the first \(lead) \(leadDiff) px, \(matched) identical within 0.01 px")
        XCTAssertLessThan(leadDiff, 1e-2)
        XCTAssertGreaterThan(Double(matched), 0.9 * Double(want.count))
    }

    func testLossFallsWithSGDOnTwoImages() throws {
        let (fixtureConfig, state) = try fixture()
        let config = tinyTrainingConfig(fixtureConfig, numClasses: 3)
        let model = try TrainableFasterRCNN(config: config, stateDict: state, source: "fixture", trainableBackboneLayers: 3, seed: 3)
        XCTAssertEqual(Set(model.parameters.initialized.map { String($0.split(separator: ".")[2]) }), ["cls_score", "bbox_pred"],
                       "only the predictor is re-initialised for 3 classes")
        let batch = TrainingBatch(samples: syntheticTrainingSamples(), transform: model.transform)
        let (losses, start, end) = overfit(model, batch, steps: 15)
        print("resnet50 SGD: mean loss of the first 3 steps \(start), of the last 3 \(end); all: \(losses)")
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(end, 0.7 * start, "the loss must fall while overfitting two images")
    }
}
