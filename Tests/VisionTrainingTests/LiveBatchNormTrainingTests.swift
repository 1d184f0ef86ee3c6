// Which batch norms train live (BatchNorm2d in train mode) and what that keeps in the
// state dict: fasterrcnn_resnet50_fpn_v2 (live everywhere, as torchvision builds it),
// a model trained from scratch (live body, torchvision's nn.BatchNorm2d when no weights
// are pretrained), and a pretrained v1 model (FrozenBatchNorm2d, unchanged). A
// from-scratch model learns, counts its batches, and a model rebuilt from its state
// dict (a resumed run) continues exactly where it was.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionTraining
import XCTest

final class LiveBatchNormTrainingTests: XCTestCase {
    func testV2TakesAndExportsEveryWeightWithItsRunningStatistics() throws {
        let (config, state) = try fixtureModel(named: "fasterrcnn_resnet50_fpn_v2")
        XCTAssertTrue(state.keys.contains("backbone.fpn.inner_blocks.0.1.num_batches_tracked"))
        try assertTakesAndExportsEveryWeight(config: config, state: state, trainableBackboneLayers: 5)
    }

    /// torchvision's _resnet_fpn_extractor freezes by name (requires_grad) but its v2 body keeps
    /// nn.BatchNorm2d: a frozen layer's batch norm has fixed weight and bias yet still normalises
    /// with batch statistics. "bn1" (the stem's) trains only with all 5 layers.
    func testV2TrainableLayersFreezeBatchNormWeightsByName() throws {
        let (config, state) = try fixtureModel(named: "fasterrcnn_resnet50_fpn_v2")
        for k in [3, 5] {
            let model = try TrainableFasterRCNN(config: config, stateDict: state, trainableBackboneLayers: k)
            let trainable = Set(model.trainableParameters.map(\.key))
            XCTAssertTrue(trainable.contains("backbone.body.layer4.0.bn1.weight"), "K = \(k)")
            XCTAssertTrue(trainable.contains("backbone.fpn.layer_blocks.0.1.bias"), "K = \(k): the FPN's batch norms train")
            XCTAssertTrue(trainable.contains("roi_heads.box_head.3.1.weight"), "K = \(k): the box head's batch norms train")
            XCTAssertEqual(trainable.contains("backbone.body.layer1.0.bn1.weight"), k >= 4, "K = \(k)")
            XCTAssertEqual(trainable.contains("backbone.body.bn1.weight"), k == 5, "K = \(k)")
            XCTAssertFalse(trainable.contains { $0.contains("running_") || $0.contains("num_batches") })
        }
    }

    func testFromScratchBodyUsesLiveBatchNormLearnsAndResumesExactly() throws {
        let (fixtureConfig, _) = try fixtureModel(named: "fasterrcnn_resnet50_fpn")
        let config = tinyTrainingConfig(fixtureConfig, numClasses: 3)
        XCTAssertEqual(config.batchNormEps, 0)
        let model = try TrainableFasterRCNN(config: config, stateDict: nil, trainableBackboneLayers: 5, seed: 5)
        XCTAssertEqual(model.config.batchNormEps, 1e-5, "a new BatchNorm2d has torch's eps, not the COCO weights' 0")
        let trainable = Set(model.trainableParameters.map(\.key))
        XCTAssertTrue(trainable.isSuperset(of: ["backbone.body.bn1.weight", "backbone.body.layer2.1.bn3.bias",
                                                "backbone.body.layer3.0.downsample.1.weight"]))
        let initial = model.stateDict()
        XCTAssertEqual(initial["backbone.body.layer1.0.bn2.num_batches_tracked"]?.values, [0])
        XCTAssertEqual(initial["backbone.body.layer1.0.bn2.running_var"]?.values.allSatisfy { $0 == 1 }, true)

        let batch = TrainingBatch(samples: syntheticTrainingSamples(), transform: model.transform)
        let steps = 12
        let (losses, start, end) = overfit(model, batch, steps: steps)
        print("resnet50 from scratch, live batch norm: mean loss of the first 3 steps \(start), of the last 3 \(end); all: \(losses)")
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(end, 0.8 * start, "the loss must fall while overfitting two images")

        let trained = model.stateDict()
        XCTAssertEqual(trained["backbone.body.layer3.2.bn1.num_batches_tracked"]?.values, [Float(steps)])
        let mean = try XCTUnwrap(trained["backbone.body.bn1.running_mean"]).values
        XCTAssertTrue(mean.contains { $0 != 0 }, "the running mean moved from its initial zeros")

        // A resumed run: the state dict carries num_batches_tracked, so the rebuilt model keeps
        // live batch norms, and one more step gives the same losses, gradients and statistics.
        let resumed = try TrainableFasterRCNN(config: model.config, stateDict: trained, source: "checkpoint",
                                              trainableBackboneLayers: 5)
        XCTAssertEqual(resumed.trainableParameters.map(\.key), model.trainableParameters.map(\.key))
        XCTAssertEqual(resumed.config.batchNormEps, 1e-5)
        model.zeroGrad()
        var rngA = TrainingRNG(seed: 11), rngB = rngA
        let a = model.forwardBackward(batch, permutations: &rngA, threads: .allCores)
        let b = resumed.forwardBackward(batch, permutations: &rngB, threads: .allCores)
        XCTAssertEqual(a, b, "the resumed model computes the same losses")
        let gradsB = Dictionary(uniqueKeysWithValues: resumed.trainableParameters.map { ($0.key, $0.variable.grad?.values) })
        for (key, v) in model.trainableParameters where key.contains("bn") || key.hasPrefix("backbone.body.conv1") {
            XCTAssertEqual(v.grad?.values, gradsB[key] ?? nil, key)
        }
        let afterA = model.stateDict(), afterB = resumed.stateDict()
        XCTAssertEqual(afterA.keys, afterB.keys)
        for key in afterA.keys { XCTAssertEqual(afterA[key]?.values, afterB[key]?.values, key) }

        // Inference folds the running statistics into the convs (keys verified by name).
        let inference = try TrainableDetectionModels.inferenceModel(of: model, source: "trained", backend: CPUBackend(threads: .allCores))
        XCTAssertEqual(inference.config.batchNormEps, 1e-5)
    }

    func testPretrainedV1BodyKeepsFrozenBatchNorm() throws {
        let (config, state) = try fixtureModel(named: "fasterrcnn_resnet50_fpn")
        XCTAssertFalse(state.keys.contains { $0.hasSuffix("num_batches_tracked") })
        let model = try TrainableFasterRCNN(config: config, stateDict: state, trainableBackboneLayers: 5)
        XCTAssertFalse(model.trainableParameters.contains { $0.key.contains(".bn") })
        XCTAssertEqual(model.config.batchNormEps, 0)
        let batch = TrainingBatch(samples: syntheticTrainingSamples(), transform: model.transform)
        var rng = TrainingRNG(seed: 1)
        _ = model.forwardBackward(batch, permutations: &rng, threads: .allCores)
        let after = model.stateDict()
        XCTAssertFalse(after.keys.contains { $0.hasSuffix("num_batches_tracked") }, "FrozenBatchNorm2d has no counter")
        XCTAssertEqual(after["backbone.body.bn1.running_mean"]?.values, state["backbone.body.bn1.running_mean"]?.values,
                       "frozen statistics do not move")
    }

    /// A new run from a state dict saved by live batch norms (num_batches_tracked present, e.g. a
    /// torchvision model built without pretrained weights) is a pretrained start: frozen body, as
    /// torchvision freezes it; continuing the run (resume) keeps them live.
    func testNewRunFromLiveStateDictFreezesTheBodyResumeKeepsItLive() throws {
        let (config, _) = try fixtureModel(named: "fasterrcnn_resnet50_fpn")
        let scratch = try TrainableFasterRCNN(config: config, stateDict: nil, trainableBackboneLayers: 5)
        let saved = scratch.stateDict()
        XCTAssertTrue(saved.keys.contains { $0.hasSuffix("num_batches_tracked") })
        let resumed = try TrainableFasterRCNN(config: scratch.config, stateDict: saved, trainableBackboneLayers: 5)
        XCTAssertTrue(resumed.trainableParameters.contains { $0.key == "backbone.body.bn1.weight" }, "resume keeps live batch norm")
        let started = try TrainableFasterRCNN(config: scratch.config, stateDict: saved, trainableBackboneLayers: 5,
                                              continuesLiveBatchNorm: false)
        XCTAssertFalse(started.trainableParameters.contains { $0.key.contains(".bn") }, "a new run freezes the body's batch norms")
        let batch = TrainingBatch(samples: syntheticTrainingSamples(), transform: started.transform)
        var rng = TrainingRNG(seed: 1)
        _ = started.forwardBackward(batch, permutations: &rng, threads: .allCores)
        XCTAssertEqual(started.stateDict()["backbone.body.bn1.running_mean"]?.values, saved["backbone.body.bn1.running_mean"]?.values,
                       "frozen statistics do not move")
    }
}
