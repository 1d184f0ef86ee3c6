/// Tells which architecture a checkpoint holds, from its keys.
/// The 320 MobileNetV3 variant has exactly the 800 one's keys: there the caller's
/// choice (`--model`) decides, and the 800 variant is the default.
/// MobileNetV3 and MobileNetV2 bodies share `backbone.body.0.0.weight` (the stem);
/// their blocks differ: V3's `features.1.block.*`, V2's `features.1.conv.*`.
public enum ArchitectureInference {
    static let resNetKey = "backbone.body.layer1.0.conv1.weight"
    static let mobileNetV3Key = "backbone.body.1.block.0.0.weight"
    static let mobileNetV2Key = "backbone.body.1.conv.0.0.weight"

    public static func architecture(keys: Set<String>, requested: String?, source: String) throws -> String {
        let hasResNet = keys.contains(resNetKey)
        let inferred: [String]
        if hasResNet && keys.contains("roi_heads.box_head.fc6.weight") {
            inferred = ["fasterrcnn_resnet50_fpn"]
        } else if hasResNet && keys.contains("roi_heads.box_head.0.0.weight") {
            inferred = ["fasterrcnn_resnet50_fpn_v2"]
        } else if keys.contains(mobileNetV3Key) {
            inferred = ["fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"]
        } else if keys.contains(mobileNetV2Key) {
            inferred = ["fasterrcnn_mobilenet_v2_fpn"]
        } else {
            throw DetectionError.cannotInferArchitecture(
                file: source, reason: "no ResNet-50 (\(resNetKey)), MobileNetV3-Large (\(mobileNetV3Key)) or MobileNetV2 "
                    + "(\(mobileNetV2Key)) backbone keys among its \(keys.count) keys")
        }
        guard let requested else { return inferred[0] }
        guard inferred.contains(requested) else {
            throw DetectionError.cannotInferArchitecture(
                file: source, reason: "--model \(requested) was asked for, but the keys are those of \(inferred.joined(separator: " or "))")
        }
        return requested
    }
}
