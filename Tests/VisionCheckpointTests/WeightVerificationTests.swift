// Name-checked weight binding: missing, unexpected, mis-shaped and aliased keys.

import VisionCheckpoint
import VisionCore
import XCTest

final class WeightVerificationTests: XCTestCase {
    private let expected = [
        ExpectedParameter("backbone.fpn.inner_blocks.0.0.weight", shape: [256, 64, 1, 1]),
        ExpectedParameter("backbone.fpn.inner_blocks.0.0.bias", shape: [256]),
        ExpectedParameter("rpn.head.conv.0.0.weight", shape: [256, 256, 3, 3]),
        ExpectedParameter("rpn.head.cls_logits.weight", shape: [3, 256, 1, 1]),
        ExpectedParameter("roi_heads.box_predictor.cls_score.weight", shape: [-1, 1024]),  // class count inferred
    ]
    private let aliases = KeyAliasTable(exact: [
        "backbone.fpn.inner_blocks.0.weight": "backbone.fpn.inner_blocks.0.0.weight",
        "backbone.fpn.inner_blocks.0.bias": "backbone.fpn.inner_blocks.0.0.bias",
        "rpn.head.conv.weight": "rpn.head.conv.0.0.weight",
    ])

    private func tensor(_ shape: [Int]) -> Tensor { Tensor(shape: shape) }

    func testCleanLoadThroughAliasesAndInferredSizes() throws {
        let sd = StateDict([
            ("backbone.fpn.inner_blocks.0.weight", tensor([256, 64, 1, 1])),  // old spelling
            ("backbone.fpn.inner_blocks.0.0.bias", tensor([256])),  // new spelling
            ("rpn.head.conv.weight", tensor([256, 256, 3, 3])),
            ("rpn.head.cls_logits.weight", tensor([3, 256, 1, 1])),
            ("roi_heads.box_predictor.cls_score.weight", tensor([2, 1024])),
            ("backbone.body.bn1.num_batches_tracked", tensor([])),
        ])
        let weights = try loadVerifiedWeights(
            sd, expected: expected, aliases: aliases, ignoring: .batchNormCounters, source: "model.pth")
        XCTAssertEqual(weights.count, 5)
        XCTAssertEqual(weights["rpn.head.conv.0.0.weight"]?.shape, [256, 256, 3, 3])
        let (_, report) = verifyWeights(sd, expected: expected, aliases: aliases, ignoring: .batchNormCounters)
        XCTAssertEqual(report.aliased.map(\.key).sorted(), ["backbone.fpn.inner_blocks.0.0.weight", "rpn.head.conv.0.0.weight"])
        XCTAssertEqual(report.ignored, ["backbone.body.bn1.num_batches_tracked"])
        XCTAssertTrue(report.isClean)
    }

    func testReportListsMissingUnexpectedAndMismatchedKeys() {
        let sd = StateDict([
            ("backbone.fpn.inner_blocks.0.0.weight", tensor([256, 64, 1, 1])),
            ("rpn.head.conv.0.0.weight", tensor([256, 256, 1, 1])),  // wrong kernel size
            ("rpn.head.cls_logits.weight", tensor([3, 256, 1, 1])),
            ("roi_heads.box_predictor.cls_score.weight", tensor([91, 512])),  // wrong width
            ("head.extra.weight", tensor([1])),
        ])
        let (weights, report) = verifyWeights(sd, expected: expected, aliases: aliases)
        XCTAssertEqual(report.missing, ["backbone.fpn.inner_blocks.0.0.bias"])
        XCTAssertEqual(report.unexpected, ["head.extra.weight"])
        XCTAssertEqual(report.shapeMismatches.map(\.key), ["rpn.head.conv.0.0.weight", "roi_heads.box_predictor.cls_score.weight"])
        XCTAssertNil(weights["rpn.head.conv.0.0.weight"], "mis-shaped tensors are not handed out")
        let text = CheckpointFixtures.errorMessage {
            _ = try loadVerifiedWeights(sd, expected: expected, aliases: aliases, source: "detector.pth")
        }
        XCTAssertTrue(text.hasPrefix("detector.pth: weights do not match the model"), text)
        XCTAssertTrue(text.contains("1 missing keys:\n  backbone.fpn.inner_blocks.0.0.bias"), text)
        XCTAssertTrue(text.contains("1 unexpected keys:\n  head.extra.weight"), text)
        XCTAssertTrue(text.contains("rpn.head.conv.0.0.weight: expected [256, 256, 3, 3], found [256, 256, 1, 1]"), text)
        XCTAssertTrue(text.contains("roi_heads.box_predictor.cls_score.weight: expected [*, 1024], found [91, 512]"), text)
    }

    func testLongListsAreTruncatedWithACount() {
        let many = (0 ..< 50).map { ExpectedParameter("layer\($0).weight", shape: [1]) }
        let (_, report) = verifyWeights(StateDict(), expected: many)
        let text = report.summary(limit: 10)
        XCTAssertTrue(text.hasPrefix("50 missing keys:"), text)
        XCTAssertTrue(text.contains("  layer9.weight"), text)
        XCTAssertFalse(text.contains("  layer10.weight"), text)
        XCTAssertTrue(text.contains("... and 40 more"), text)
    }

    func testPrefixRulesAndAliasConflicts() {
        let table = KeyAliasTable(exact: ["rpn.head.conv.weight": "rpn.head.conv.0.0.weight"], prefixes: [("module.", "")])
        let sd = StateDict([
            ("module.rpn.head.conv.weight", tensor([256, 256, 3, 3])),  // prefix, then exact alias
            ("rpn.head.cls_logits.weight", tensor([3, 256, 1, 1])),
            ("module.rpn.head.cls_logits.weight", tensor([3, 256, 1, 1])),  // duplicate of a direct key
        ])
        let (weights, report) = verifyWeights(sd, expected: Array(expected[2...3]), aliases: table)
        XCTAssertNotNil(weights["rpn.head.conv.0.0.weight"])
        XCTAssertEqual(report.unexpected, ["module.rpn.head.cls_logits.weight"])
        XCTAssertTrue(report.missing.isEmpty)
    }
}
