// vision's metadata inside a torch zip .pth. A .pth's pickle has no place for
// it that torch.load hands back untouched, so it travels as one extra archive
// record, <folder>/vision_metadata.json: a JSON object of strings, the same
// string-to-string map a .safetensors file keeps in `__metadata__` (class
// names, model config, training progress). torch's zip reader only opens the
// records the pickle names, so torch.load (weights_only True or False) ignores
// it; a .pth without it (any file torch.save wrote) reads with empty metadata.

import Foundation
import VisionCore

enum PthMetadataRecord {
    static let name = "vision_metadata.json"

    /// Compact JSON, keys sorted, so the same metadata always gives the same bytes.
    static func encode(_ metadata: [String: String]) -> [UInt8] {
        let items = metadata.keys.sorted().map { "\(jsonStringLiteral($0)):\(jsonStringLiteral(metadata[$0]!))" }
        return Array(("{" + items.joined(separator: ",") + "}").utf8)
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, fileName: String) throws -> [String: String] {
        func bad(_ message: String) -> CheckpointError { .badHeader(file: fileName, message: "\(name): \(message)") }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw bad("not valid JSON")
        }
        guard let object = json as? [String: Any] else { throw bad("not a JSON object") }
        var metadata: [String: String] = [:]
        for (key, value) in object {
            guard let text = value as? String else { throw bad("the value for '\(key)' is not a string") }
            metadata[key] = text
        }
        return metadata
    }
}
