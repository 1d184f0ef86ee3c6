/// Tells which of the four architectures a checkpoint holds, from its keys.
/// The 320 MobileNet variant has exactly the 800 one's keys: there the caller's
/// choice (`--model`) decides, and the 800 variant is the default.
public enum ArchitectureInference {
    public static func architecture(keys: Set<String>, requested: String?, source: String) throws -> String {
        let hasResNet = keys.contains("backbone.body.layer1.0.conv1.weight")
        let hasMobileNet = keys.contains("backbone.body.0.0.weight")
        let inferred: [String]
        if hasResNet && keys.contains("roi_heads.box_head.fc6.weight") {
            inferred = ["fasterrcnn_resnet50_fpn"]
        } else if hasResNet && keys.contains("roi_heads.box_head.0.0.weight") {
            inferred = ["fasterrcnn_resnet50_fpn_v2"]
        } else if hasMobileNet {
            inferred = ["fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"]
        } else {
            throw DetectionError.cannotInferArchitecture(
                file: source, reason: "no ResNet-50 (backbone.body.layer1.0.conv1.weight) or MobileNetV3 "
                    + "(backbone.body.0.0.weight) backbone keys among its \(keys.count) keys")
        }
        guard let requested else { return inferred[0] }
        guard inferred.contains(requested) else {
            throw DetectionError.cannotInferArchitecture(
                file: source, reason: "--model \(requested) was asked for, but the keys are those of \(inferred.joined(separator: " or "))")
        }
        return requested
    }
}
