// Errors raised while reading or writing checkpoints. Every case carries the
// file's name so a message alone tells the user which file is at fault.

import VisionCore

public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, read or written.
    case io(file: String, message: String)
    /// The file ends before a structure it announces is complete.
    case truncated(file: String, context: String)
    /// A header or record is malformed (bad magic, bad JSON, bad field).
    case badHeader(file: String, message: String)
    /// The content is not any format this module reads.
    case unknownFormat(file: String)
    /// The pickle names a global outside the allow-list; nothing is executed.
    case refusedGlobal(file: String, name: String)
    /// The pickle uses an opcode outside the allow-list.
    case refusedOpcode(file: String, opcode: UInt8, offset: Int)
    /// The pickle is structurally invalid (stack underflow, bad memo index, ...).
    case badPickle(file: String, message: String)
    /// A tensor element type this module does not convert.
    case unsupportedDType(file: String, key: String, dtype: String)
    /// A tensor view reaches outside its storage, or a storage outside the file.
    case storageOutOfRange(file: String, key: String, message: String)
    /// Two safetensors data ranges overlap.
    case overlappingData(file: String, first: String, second: String)
    /// The checkpoint decodes but does not hold a state dict of tensors.
    case notAStateDict(file: String, message: String)
    /// A model file (TFLite) reads fine but is not a graph the converter maps onto its target.
    case unsupportedModel(file: String, message: String)

    /// One line: names and keys quoted from the file have their control characters escaped.
    public var description: String { singleLine(message) }

    private var message: String {
        switch self {
        case let .io(file, message): return "\(file): \(message)"
        case let .truncated(file, context): return "\(file): truncated file (\(context))"
        case let .badHeader(file, message): return "\(file): bad header: \(message)"
        case let .unknownFormat(file):
            return "\(file): unknown checkpoint format (expected a zip .pth, a legacy .pth or a .safetensors file)"
        case let .refusedGlobal(file, name): return "\(file): refused pickle global \(name)"
        case let .refusedOpcode(file, opcode, offset):
            let hex = String(opcode, radix: 16)
            return "\(file): refused pickle opcode 0x\(hex.count < 2 ? "0" + hex : hex) at byte \(offset)"
        case let .badPickle(file, message): return "\(file): malformed pickle: \(message)"
        case let .unsupportedDType(file, key, dtype): return "\(file): tensor '\(key)': unsupported dtype \(dtype)"
        case let .storageOutOfRange(file, key, message): return "\(file): tensor '\(key)': storage out of range: \(message)"
        case let .overlappingData(file, first, second):
            return "\(file): data of tensors '\(first)' and '\(second)' overlap"
        case let .notAStateDict(file, message): return "\(file): not a state dict: \(message)"
        case let .unsupportedModel(file, message): return "\(file): \(message)"
        }
    }
}
