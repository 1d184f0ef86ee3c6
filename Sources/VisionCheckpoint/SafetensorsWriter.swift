// Writes Float32 state dicts as .safetensors the way the reference
// implementation does: keys sorted, data in key order, compact JSON header
// padded with spaces to a multiple of 8 bytes. Elements are stored as F32, or as
// F16 (half the size; round-to-nearest-even, refused where a value does not fit).

import VisionCore

enum SafetensorsWriter {
    static func write(_ stateDict: StateDict, to path: String, metadata: [String: String],
                      storage: SafetensorsStorage = .float32) throws {
        let keys = stateDict.keys.sorted()
        let elementSize = storage.elementSize
        var json = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonStringLiteral($0)):\(jsonStringLiteral(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for key in keys {
            let tensor = stateDict.tensors[key]!
            let bytes = tensor.count * elementSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonStringLiteral(key)):{\"dtype\":\"\(storage.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        json += fields.joined(separator: ",") + "}"
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        try storage.checkRepresentable(stateDict, file: path)
        let output = try BinaryFileWriter(path: path)
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try output.write($0) }
        try header.withUnsafeBytes { try output.write($0) }
        for key in keys {
            let tensor = stateDict.tensors[key]!
            try storage.withStoredBytes(of: tensor) { try output.write($0) }
        }
        try output.close()
    }
}
