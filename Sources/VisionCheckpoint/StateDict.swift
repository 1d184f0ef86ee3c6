// A loaded checkpoint: named Float32 tensors in file order, plus what the file
// said about them (original dtypes, vision/safetensors metadata, torch module versions).

import VisionCore

public struct StateDict: @unchecked Sendable {
    /// Keys in the order the file lists them (safetensors: by data offset).
    public private(set) var keys: [String] = []
    public private(set) var tensors: [String: Tensor] = [:]
    /// The element type each tensor had in the file before conversion to Float32.
    /// Integer tensors (e.g. `num_batches_tracked`, int64) are converted too; values
    /// beyond 2^24 lose precision.
    public private(set) var sourceDTypes: [String: TensorDType] = [:]
    /// safetensors `__metadata__`, or the vision_metadata.json record of a .pth vision wrote (string to string).
    public var metadata: [String: String] = [:]
    /// torch `_metadata`: module prefix ("" for the root) to its `version`, when recorded.
    /// Model code can use it to pick between old and new key spellings.
    public var moduleVersions: [String: Int] = [:]

    public init() {}

    /// A state dict from (key, tensor) pairs, in that order.
    public init(_ pairs: [(String, Tensor)]) {
        for (key, tensor) in pairs { self[key] = tensor }
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> Tensor? {
        get { tensors[key] }
        set {
            if let tensor = newValue {
                if tensors.updateValue(tensor, forKey: key) == nil { keys.append(key) }
                sourceDTypes[key] = .float32
            } else if tensors.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
                sourceDTypes[key] = nil
            }
        }
    }

    /// Inserts a tensor converted from `dtype`; a repeated key keeps its first position.
    mutating func insert(_ tensor: Tensor, forKey key: String, sourceDType dtype: TensorDType) {
        self[key] = tensor
        sourceDTypes[key] = dtype
    }
}

/// The container a checkpoint was read from.
public enum CheckpointFormat: String, Sendable, CaseIterable {
    /// torch.save zip archive (torch >= 1.6).
    case pthZip
    /// torch.save legacy stream of pickles (before 1.6, or `_use_new_zipfile_serialization=False`).
    case pthLegacy
    case safetensors
}
