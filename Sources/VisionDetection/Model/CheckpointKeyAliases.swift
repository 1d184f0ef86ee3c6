import VisionCheckpoint

/// Older torchvision checkpoints spell the single RPN conv and the FPN convs without the
/// Conv2dNormActivation level; both spellings load, into the canonical keys the layers ask for.
public enum CheckpointKeyAliases {
    /// `rpn.head.conv.weight` for `rpn.head.conv.0.0.weight`;
    /// `backbone.fpn.inner_blocks.0.weight` for `backbone.fpn.inner_blocks.0.0.weight`.
    public static let table: KeyAliasTable = {
        var exact = ["rpn.head.conv.weight": "rpn.head.conv.0.0.weight", "rpn.head.conv.bias": "rpn.head.conv.0.0.bias"]
        for i in 0..<5 {
            for kind in ["inner_blocks", "layer_blocks"] {
                for name in ["weight", "bias"] { exact["backbone.fpn.\(kind).\(i).\(name)"] = "backbone.fpn.\(kind).\(i).0.\(name)" }
            }
        }
        return KeyAliasTable(exact: exact)
    }()
}
