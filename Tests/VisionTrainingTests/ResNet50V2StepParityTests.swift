// One full fasterrcnn_resnet50_fpn_v2 training step against torchvision (fixture
// Tests/Fixtures/training/resnet50_v2_step.{f32,json}, written by
// Tests/Fixtures/generate_training_resnet50_v2.py): the reduced-width v2 fixture model,
// whose body, FPN and box head have live BatchNorm2d (batch statistics in train mode),
// every parameter trainable, pets.png + hot_dog_gray.png (padded batch), torch's sampler
// permutations replayed and torch's proposals fed in. The four losses and the gradients
// of parameters from every part (batch-norm weights and biases among them) must match
// within 1e-3 relative, and the running statistics after the step torch's.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionTraining
import XCTest

final class ResNet50V2StepParityTests: XCTestCase {
    func testFullTrainingStepWithLiveBatchNormMatchesTorchvision() throws {
        let fixture = try StepFixture("resnet50_v2_step")
        let (f, step) = (fixture.arrays, fixture.step)
        var config = try ModelConfig.load(file: try fixtureURL("model/fasterrcnn_resnet50_fpn_v2.json"))
        XCTAssertEqual(config.variant, .v2)
        guard let buffers = step["buffers"] as? [String],
              let preNMS = step["rpn_pre_nms_top_n_train"] as? Int, let postNMS = step["rpn_post_nms_top_n_train"] as? Int,
              let shift = step["batch_norm_bias_shift"] as? Double
        else { throw TrainingFixtureError("resnet50_v2_step.json: step params missing") }
        config.rpnPreNMSTopNTrain = preNMS
        config.rpnPostNMSTopNTrain = postNMS
        var (state, _) = try loadStateDict(from: try fixtureURL("model/fasterrcnn_resnet50_fpn_v2.safetensors"))
        // As the generator: every batch norm's bias raised by `shift`, so that almost no ReLU input
        // lies near 0, where float32 rounding (torch's or vision's) would flip a unit and move a
        // weight gradient (a cancelling sum over a whole map) by ~1e-3 (see the generator's docstring;
        // torch float32 and float64 differ by up to 8% without the shift).
        for key in state.keys where key.hasSuffix(".running_mean") {
            let bias = String(key.dropLast("running_mean".count)) + "bias"
            let t = try XCTUnwrap(state[bias])
            state[bias] = Tensor(shape: t.shape, values: t.values.map { $0 + Float(shift) })
        }
        let model = try TrainableFasterRCNN(config: config, stateDict: state, source: "fixture", trainableBackboneLayers: 5)

        // The running statistics start as the checkpoint's.
        let before = model.stateDict()
        for key in buffers {
            assertRelative(try XCTUnwrap(before[key], "no \(key)").values, try f.array("before_\(key)"), tolerance: 0,
                           "v2 \(key) before the step")
        }

        _ = try fixture.stepWithTorchProposals(model, label: "v2")

        let byKey = Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.key, $0.variable) })
        let keys = fixture.parameters
        XCTAssertTrue(keys.contains("backbone.body.bn1.weight") && keys.contains("backbone.body.conv1.weight") && keys.contains("roi_heads.box_head.0.1.bias")
                      && keys.contains("backbone.fpn.inner_blocks.0.1.bias"), "batch-norm parameters are compared")
        for key in keys {
            let grad = try XCTUnwrap(byKey[key]?.grad, "no gradient for \(key)")
            assertRelative(grad.values, try f.array("grad_\(key)"), tolerance: 1e-3, "v2 gradient of \(key)")
            // And torch's float64 step: the exact gradient, up to float32 inputs.
            assertRelative(grad.values, try f.array("grad64_\(key)"), tolerance: 1e-3, "v2 gradient vs torch float64 of \(key)")
        }

        // Running mean / variance (momentum 0.1, unbiased variance) and the batch count after the step.
        let after = model.stateDict()
        for key in buffers {
            let got = try XCTUnwrap(after[key], "no \(key) in the state dict").values
            let tolerance = key.hasSuffix("num_batches_tracked") ? 0 : 1e-4
            assertRelative(got, try f.array("after_\(key)"), tolerance: tolerance, "v2 \(key) after the step")
        }
        XCTAssertNotEqual(after["roi_heads.box_head.0.1.running_mean"]?.values, before["roi_heads.box_head.0.1.running_mean"]?.values,
                          "the box head's running mean moves")
    }
}
