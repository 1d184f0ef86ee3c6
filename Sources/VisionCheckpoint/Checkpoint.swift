// The public entry points: load any supported checkpoint (format sniffed from
// the content, not the extension) and save state dicts as .safetensors or .pth.

import Foundation

/// Reads a state dict from a zip .pth, a legacy .pth or a .safetensors file.
/// Every tensor is converted to Float32. Pickles are read by a whitelisting
/// unpickler: no code in the file is ever run.
public func loadStateDict(from url: URL) throws -> (StateDict, CheckpointFormat) {
    try loadStateDict(from: try MappedFile(url: url))
}

/// Reads a state dict from checkpoint bytes already in memory; `name` stands in
/// for the file name in error messages.
public func loadStateDict(bytes: [UInt8], name: String) throws -> (StateDict, CheckpointFormat) {
    try loadStateDict(from: try bytes.withUnsafeBytes { try MappedFile(copying: $0, name: name) })
}

private func loadStateDict(from file: MappedFile) throws -> (StateDict, CheckpointFormat) {
    let format = try sniffCheckpointFormat(file)
    switch format {
    case .pthZip: return (try PthZipReader.read(file), format)
    case .pthLegacy: return (try PthLegacyReader.read(file), format)
    case .safetensors: return (try SafetensorsReader.read(file), format)
    }
}

/// The format of a checkpoint, judged from its first bytes.
public func checkpointFormat(of url: URL) throws -> CheckpointFormat {
    try sniffCheckpointFormat(try MappedFile(url: url))
}

func sniffCheckpointFormat(_ file: MappedFile) throws -> CheckpointFormat {
    let bytes = file.bytes
    if bytes.count >= 4, bytes.leUInt32(at: 0) == ZipArchiveReader.localHeaderSignature { return .pthZip }
    if PthLegacyReader.looksLegacy(bytes) { return .pthLegacy }
    if SafetensorsReader.looksLikeSafetensors(bytes) { return .safetensors }
    if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "K") {
        return .pthZip  // a zip that starts with another record; the reader will judge it
    }
    if bytes.count < 16, bytes.first == 0x80 || bytes.count < 9 {
        throw CheckpointError.truncated(file: file.fileName, context: "only \(bytes.count) bytes")
    }
    throw CheckpointError.unknownFormat(file: file.fileName)
}

/// Writes `stateDict` as .safetensors (keys sorted, optional `__metadata__`), elements F32 or F16.
public func saveSafetensors(_ stateDict: StateDict, to url: URL, metadata: [String: String] = [:],
                            storage: SafetensorsStorage = .float32) throws {
    try SafetensorsWriter.write(stateDict, to: url.path, metadata: metadata, storage: storage)
}

/// Writes `stateDict` as a torch zip .pth (F32 or F16 tensors, `_metadata` versions
/// when known), readable by `torch.load(path, weights_only=True)`. `metadata` (the
/// same map a .safetensors keeps in `__metadata__`) goes into an extra archive
/// record torch ignores, and `loadStateDict` restores it as `StateDict.metadata`.
public func savePth(_ stateDict: StateDict, to url: URL, metadata: [String: String] = [:],
                    storage: SafetensorsStorage = .float32) throws {
    try PthWriter.write(stateDict, to: url.path, metadata: metadata, storage: storage)
}
