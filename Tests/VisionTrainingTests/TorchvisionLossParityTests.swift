// Parity with torchvision (fixtures from Tests/Fixtures/generate_training.py):
// RPN targets + compute_loss, RoI-head sample selection + fastrcnn_loss, both with
// torch's recorded randperm draws replayed, and a conv -> relu -> roi_align -> linear
// chain's gradients. Losses within 1e-4 relative, gradients within 1e-3 relative
// (of the largest reference magnitude).

import VisionCore
import VisionDetection
import VisionTraining
import XCTest

final class TorchvisionLossParityTests: XCTestCase {
    func testRPNTargetsAndLoss() throws {
        let f = try TrainingFixtures.load()
        let images = try f.param("rpn", "images")
        let anchors = Boxes(coordinates: try f.array("rpn_anchors"))
        let assigner = RPNTargetAssigner()
        let targets = try (0..<images).map { i in
            assigner.targets(anchors: anchors, groundTruth: Boxes(coordinates: try f.array("rpn_gt_\(i)")))
        }
        XCTAssertEqual(targets.flatMap(\.labels), try f.array("rpn_labels"), "matcher labels (1 / 0 / -1) per anchor")
        // Regression targets only matter (and are only compared) where the anchor is foreground.
        let labels = try f.array("rpn_labels")
        let wanted = try f.array("rpn_regression_targets")
        let got = targets.flatMap(\.regressionTargets)
        let fg = labels.indices.filter { labels[$0] == 1 }
        XCTAssertFalse(fg.isEmpty)
        assertRelative(fg.flatMap { i in (0..<4).map { got[i * 4 + $0] } }, fg.flatMap { i in (0..<4).map { wanted[i * 4 + $0] } },
                       tolerance: 1e-5, "RPN regression targets (foreground)")

        let perms = try (0..<f.param("rpn", "perms")).map { try f.integers("rpn_perm_\($0)") }
        var source = RecordedPermutations(perms)
        let objectness = try f.array("rpn_objectness"), deltas = try f.array("rpn_deltas")
        let loss = objectness.withUnsafeBufferPointer { o in
            deltas.withUnsafeBufferPointer { d in
                assigner.loss(objectness: o, deltas: d, targets: targets, permutations: &source, objectnessWeight: 1, boxWeight: 2)
            }
        }
        XCTAssertTrue(source.remaining.isEmpty, "the sampler must draw exactly torch's permutations")
        assertRelative(loss.objectness, try f.array("rpn_loss_objectness")[0], tolerance: 1e-4, "RPN objectness loss")
        assertRelative(loss.boxRegression, try f.array("rpn_loss_box")[0], tolerance: 1e-4, "RPN box loss")
        assertRelative(loss.objectnessGradient, try f.array("rpn_grad_objectness"), tolerance: 1e-3, "RPN d/d objectness")
        assertRelative(loss.deltasGradient, try f.array("rpn_grad_deltas"), tolerance: 1e-3, "RPN d/d deltas")
    }

    func testRoIHeadsSamplesAndFastRCNNLoss() throws {
        let f = try TrainingFixtures.load()
        let images = try f.param("roi", "images"), classes = try f.param("roi", "classes")
        let assigner = RoIHeadsTargetAssigner(
            sampler: BalancedPositiveNegativeSampler(batchSizePerImage: try f.param("roi", "batch_size_per_image"),
                                                     positiveFraction: 0.25))
        let perms = try (0..<f.param("roi", "perms")).map { try f.integers("roi_perm_\($0)") }
        var source = RecordedPermutations(perms)
        let samples = assigner.samples(
            proposals: try (0..<images).map { Boxes(coordinates: try f.array("roi_proposals_\($0)")) },
            groundTruth: try (0..<images).map { Boxes(coordinates: try f.array("roi_gt_\($0)")) },
            groundTruthLabels: try (0..<images).map { try f.integers("roi_gt_labels_\($0)") },
            permutations: &source)
        XCTAssertTrue(source.remaining.isEmpty, "the sampler must draw exactly torch's permutations")
        for (i, s) in samples.enumerated() {
            XCTAssertEqual(s.proposals.coordinates, try f.array("roi_sampled_proposals_\(i)"), "image \(i) sampled proposals")
            XCTAssertEqual(s.labels, try f.integers("roi_sampled_labels_\(i)"), "image \(i) labels")
            XCTAssertEqual(s.matchedIndices, try f.integers("roi_sampled_matched_\(i)"), "image \(i) matched GT")
            // Only positives' targets are used (background rows of a GT-less image are -inf in torch too).
            let wanted = try f.array("roi_regression_targets_\(i)")
            let positive = s.labels.indices.filter { s.labels[$0] > 0 }.flatMap { r in (0..<4).map { r * 4 + $0 } }
            assertClose(positive.map { s.regressionTargets[$0] }, positive.map { wanted[$0] }, tolerance: 1e-5,
                        "image \(i) regression targets (positives)")
        }
        let logits = try f.array("roi_class_logits"), regression = try f.array("roi_box_regression")
        let loss = logits.withUnsafeBufferPointer { l in
            regression.withUnsafeBufferPointer { r in
                fastRCNNLoss(classLogits: l, boxRegression: r, labels: samples.flatMap(\.labels),
                             regressionTargets: samples.flatMap(\.regressionTargets), classes: classes,
                             classifierWeight: 1, boxWeight: 3)
            }
        }
        assertRelative(loss.classifier, try f.array("roi_loss_classifier")[0], tolerance: 1e-4, "fastrcnn classifier loss")
        assertRelative(loss.boxRegression, try f.array("roi_loss_box")[0], tolerance: 1e-4, "fastrcnn box loss")
        assertRelative(loss.classLogitsGradient, try f.array("roi_grad_class_logits"), tolerance: 1e-3, "d/d class logits")
        assertRelative(loss.boxRegressionGradient, try f.array("roi_grad_box_regression"), tolerance: 1e-3, "d/d box regression")
    }

    func testConvRoIAlignLinearChainGradients() throws {
        let f = try TrainingFixtures.load()
        func parameter(_ name: String) throws -> Variable {
            Variable(Tensor(shape: try f.shape(name), values: try f.array(name)), requiresGrad: true)
        }
        let x = try parameter("chain_x"), convW = try parameter("chain_conv_w"), convB = try parameter("chain_conv_b")
        let linW = try parameter("chain_lin_w"), linB = try parameter("chain_lin_b")
        let rois = try f.array("chain_rois")
        let k = rois.count / 5
        let boxes = Boxes(coordinates: (0..<k).flatMap { r in (1...4).map { rois[r * 5 + $0] } })
        let batchIndices = (0..<k).map { Int(rois[$0 * 5]) }

        let tape = Tape(threads: .allCores)
        let y = tape.relu(tape.conv2d(x, weight: convW, bias: convB, padding: 1))
        let pooled = tape.roiAlign(y, boxes: boxes, batchIndices: batchIndices, outputSize: 3, spatialScale: 0.5, samplingRatio: 2)
        let out = tape.linear(tape.reshape(pooled, [k, pooled.value.count / k]), weight: linW, bias: linB)
        assertRelative(out.value.values, try f.array("chain_out"), tolerance: 1e-4, "chain forward")
        // d(sum(out * W))/d(out) = W.
        tape.backward([(out, Tensor(shape: [k, 6], values: try f.array("chain_weights")))])
        for (name, v) in [("x", x), ("conv_w", convW), ("conv_b", convB), ("lin_w", linW), ("lin_b", linB)] {
            let grad = try XCTUnwrap(v.grad, "no gradient for \(name)")
            assertRelative(grad.values, try f.array("chain_grad_\(name)"), tolerance: 1e-3, "chain d/d \(name)")
        }
    }
}
