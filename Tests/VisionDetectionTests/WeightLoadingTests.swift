import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import XCTest

/// Loading by name: missing, unexpected and mis-shaped keys are reported with
/// their full key paths; old key spellings load; the class count comes from the
/// checkpoint; the architecture is inferred from the keys.
final class WeightLoadingTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/model")

    func fixture(_ arch: String, weights: String? = nil) throws -> (ModelConfig, StateDict) {
        let config = try ModelConfig.load(file: Self.fixtures.appendingPathComponent("\(arch).json"))
        let (state, _) = try loadStateDict(from: Self.fixtures.appendingPathComponent(weights ?? "\(arch).safetensors"))
        return (config, state)
    }

    func loadError(_ config: ModelConfig, _ state: StateDict) -> String? {
        do {
            _ = try FasterRCNN(config: config, stateDict: state, source: "edited.safetensors")
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testMissingKeyIsNamed() throws {
        var (config, state) = try fixture("fasterrcnn_resnet50_fpn")
        _ = config
        state["rpn.head.cls_logits.weight"] = nil
        let message = try XCTUnwrap(loadError(config, state))
        XCTAssertTrue(message.contains("edited.safetensors"), message)
        XCTAssertTrue(message.contains("1 missing keys:\n  rpn.head.cls_logits.weight"), message)
    }

    func testWrongShapeIsNamedWithBothShapes() throws {
        var (config, state) = try fixture("fasterrcnn_resnet50_fpn")
        _ = config
        state["backbone.fpn.layer_blocks.2.0.weight"] = Tensor(shape: [32, 32, 1, 1])
        let message = try XCTUnwrap(loadError(config, state))
        XCTAssertTrue(message.contains("backbone.fpn.layer_blocks.2.0.weight"), message)
        XCTAssertTrue(message.contains("[32, 32, 3, 3]") && message.contains("[32, 32, 1, 1]"), message)
    }

    func testUnexpectedKeyIsNamed() throws {
        var (config, state) = try fixture("fasterrcnn_mobilenet_v3_large_fpn")
        _ = config
        state["roi_heads.mask_head.weight"] = Tensor(shape: [3])
        let message = try XCTUnwrap(loadError(config, state))
        XCTAssertTrue(message.contains("unexpected keys:\n  roi_heads.mask_head.weight"), message)
    }

    /// Checkpoints saved before torchvision's version hooks spell the FPN convs
    /// `fpn.inner_blocks.i.weight` and the RPN conv `rpn.head.conv.weight`.
    func testOldKeySpellingsGiveTheSameDetections() throws {
        let (config, state) = try fixture("fasterrcnn_resnet50_fpn")
        var old = StateDict()
        for key in state.keys {
            var renamed = key
            for kind in ["inner_blocks", "layer_blocks"] {
                for i in 0..<4 {
                    renamed = renamed.replacingOccurrences(of: "fpn.\(kind).\(i).0.", with: "fpn.\(kind).\(i).")
                }
            }
            renamed = renamed.replacingOccurrences(of: "rpn.head.conv.0.0.", with: "rpn.head.conv.")
            old[renamed] = state[key]
        }
        XCTAssertNotNil(old["backbone.fpn.inner_blocks.0.weight"])
        XCTAssertNotNil(old["rpn.head.conv.weight"])
        let image = Tensor(shape: [3, 96, 128], values: (0..<(3 * 96 * 128)).map { Float(($0 * 7919) % 256) / 255 })
        let new = try FasterRCNN(config: config, stateDict: state, source: "new").detect([image])[0]
        let fromOld = try FasterRCNN(config: config, stateDict: old, source: "old").detect([image])[0]
        XCTAssertEqual(new.scores, fromOld.scores)
        XCTAssertEqual(new.boxes, fromOld.boxes)
    }

    /// A checkpoint fine-tuned to 4 classes (background + 3) loads with no flag.
    func testClassCountComesFromTheCheckpoint() throws {
        let (config, state) = try fixture("fasterrcnn_mobilenet_v3_large_fpn")
        var tuned = state
        for (key, rows) in [("cls_score", 4), ("bbox_pred", 16)] {
            for part in ["weight", "bias"] {
                let full = try XCTUnwrap(state["roi_heads.box_predictor.\(key).\(part)"])
                let width = full.count / full.shape[0]
                tuned["roi_heads.box_predictor.\(key).\(part)"] = Tensor(
                    shape: [rows] + full.shape.dropFirst(), values: Array(full.values.prefix(rows * width)))
            }
        }
        let model = try FasterRCNN(config: config, stateDict: tuned, source: "tuned")
        XCTAssertEqual(model.config.numClasses, 4)
        let image = Tensor(shape: [3, 64, 80], values: (0..<(3 * 64 * 80)).map { Float(($0 * 31) % 256) / 255 })
        let detections = model.detect([image])[0]
        XCTAssertTrue(detections.labels.allSatisfy { (1..<4).contains($0) }, "\(detections.labels)")
    }

    func testArchitectureIsInferredFromKeys() throws {
        for (arch, weights) in [("fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn.safetensors"),
                                ("fasterrcnn_resnet50_fpn_v2", "fasterrcnn_resnet50_fpn_v2.safetensors"),
                                ("fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_fpn.safetensors")] {
            let (_, state) = try fixture(arch, weights: weights)
            XCTAssertEqual(try ArchitectureInference.architecture(keys: Set(state.keys), requested: nil, source: weights), arch)
        }
        let (_, mobile) = try fixture("fasterrcnn_mobilenet_v3_large_fpn")
        XCTAssertEqual(try ArchitectureInference.architecture(
            keys: Set(mobile.keys), requested: "fasterrcnn_mobilenet_v3_large_320_fpn", source: "m"), "fasterrcnn_mobilenet_v3_large_320_fpn")
        XCTAssertThrowsError(try ArchitectureInference.architecture(
            keys: Set(mobile.keys), requested: "fasterrcnn_resnet50_fpn", source: "m.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("m.safetensors"), "\(error)")
        }
        XCTAssertThrowsError(try ArchitectureInference.architecture(keys: ["a.weight"], requested: nil, source: "x.pth")) { error in
            for backbone in ["ResNet-50", "MobileNetV3", "MobileNetV2"] {
                XCTAssertTrue("\(error)".contains(backbone), "\(error)")
            }
        }
    }

    /// MobileNetV2 and V3 bodies share the stem key `backbone.body.0.0.weight`; their
    /// blocks (`1.conv.*` vs `1.block.*`) tell them apart.
    func testMobileNetV2IsInferredAndV3StaysV3() throws {
        let (_, v2) = try fixture("fasterrcnn_mobilenet_v2_fpn")
        let (_, v3) = try fixture("fasterrcnn_mobilenet_v3_large_fpn")
        XCTAssertNotNil(v2["backbone.body.0.0.weight"])
        XCTAssertNotNil(v2["backbone.body.1.conv.0.0.weight"])
        XCTAssertEqual(try ArchitectureInference.architecture(keys: Set(v2.keys), requested: nil, source: "v2"),
                       "fasterrcnn_mobilenet_v2_fpn")
        XCTAssertEqual(try ArchitectureInference.architecture(
            keys: Set(v2.keys), requested: "fasterrcnn_mobilenet_v2_fpn", source: "v2"), "fasterrcnn_mobilenet_v2_fpn")
        XCTAssertEqual(try ArchitectureInference.architecture(keys: Set(v3.keys), requested: nil, source: "v3"),
                       "fasterrcnn_mobilenet_v3_large_fpn")
        XCTAssertThrowsError(try ArchitectureInference.architecture(
            keys: Set(v2.keys), requested: "fasterrcnn_mobilenet_v3_large_fpn", source: "v2.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("fasterrcnn_mobilenet_v2_fpn"), "\(error)")
        }
        XCTAssertThrowsError(try ArchitectureInference.architecture(
            keys: Set(v3.keys), requested: "fasterrcnn_mobilenet_v2_fpn", source: "v3.safetensors"))
        XCTAssertTrue(ModelConfig.names.contains("fasterrcnn_mobilenet_v2_fpn"))
    }

    /// Checkpoints written by `vision train` carry their model definition as
    /// `vision.config` metadata; a MobileNetV2 one loads from it with no Models/ file.
    func testMobileNetV2CheckpointLoadsFromItsConfigMetadata() throws {
        let (config, state) = try fixture("fasterrcnn_mobilenet_v2_fpn")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vision-mnv2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("trained.safetensors")
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try saveSafetensors(state, to: url, metadata: [Detector.configMetadataKey: json])
        let detector = try Detector(checkpoint: url, modelDirectory: dir)
        XCTAssertEqual(detector.architecture, "fasterrcnn_mobilenet_v2_fpn")
        XCTAssertEqual(detector.model.config.backbone, .mobilenetV2)
        XCTAssertEqual(detector.model.config.mobilenetWidthMultiplier, config.mobilenetWidthMultiplier)
        let image = Tensor(shape: [3, 96, 128], values: (0..<(3 * 96 * 128)).map { Float(($0 * 7919) % 256) / 255 })
        let direct = try FasterRCNN(config: config, stateDict: state, source: "direct").detect([image])[0]
        let loaded = detector.model.detect([image])[0]
        XCTAssertEqual(loaded.scores, direct.scores)
        XCTAssertEqual(loaded.boxes, direct.boxes)
        XCTAssertGreaterThan(loaded.count, 0)
    }
}
