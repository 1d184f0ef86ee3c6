// .safetensors: u64 LE header length N, N bytes of JSON
//   {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}
// then the data buffer (little-endian, row-major). Offsets are relative to the
// buffer. The header is validated before any tensor is touched.

import Foundation
import VisionCore

enum SafetensorsReader {
    /// The reference implementation's bound on the header size.
    static let maxHeaderBytes = 100_000_000

    private struct Entry {
        let key: String
        let dtype: TensorDType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    /// Whether the file starts like a safetensors header: a plausible length, then '{'.
    static func looksLikeSafetensors(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let length = bytes.leUInt64(at: 0), length >= 2, length <= UInt64(maxHeaderBytes), bytes.count > 8 else { return false }
        return bytes[8] == UInt8(ascii: "{")
    }

    static func read(_ file: MappedFile) throws -> StateDict {
        let name = file.fileName
        func bad(_ message: String) -> CheckpointError { .badHeader(file: name, message: message) }
        var reader = ByteReader(file.bytes, fileName: name)
        let headerLength = try reader.u64("safetensors header length")
        guard headerLength <= UInt64(maxHeaderBytes) else { throw bad("header length \(headerLength) exceeds \(maxHeaderBytes)") }
        let header = try reader.slice(Int(headerLength), "safetensors header")
        let buffer = UnsafeRawBufferPointer(rebasing: file.bytes[reader.position...])

        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(header), options: [])
        } catch {
            throw bad("header is not valid JSON")
        }
        guard let object = json as? [String: Any] else { throw bad("header is not a JSON object") }

        var result = StateDict()
        var entries: [Entry] = []
        for (key, value) in object {
            if key == "__metadata__" {
                guard let metadata = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (k, v) in metadata {
                    guard let s = v as? String else { throw bad("__metadata__ value for '\(k)' is not a string") }
                    result.metadata[k] = s
                }
                continue
            }
            entries.append(try parseEntry(key, value, bufferSize: buffer.count, bad))
        }
        // Non-overlap: sorted by begin, each range must end before the next begins.
        entries.sort { ($0.begin, $0.end, $0.key) < ($1.begin, $1.end, $1.key) }
        for (previous, next) in zip(entries, entries.dropFirst()) where previous.end > next.begin {
            throw CheckpointError.overlappingData(file: name, first: previous.key, second: next.key)
        }
        for entry in entries {
            let storage = RawStorage(
                base: buffer.baseAddress.map { $0 + entry.begin }, count: (entry.end - entry.begin) / entry.dtype.byteSize,
                dtype: entry.dtype)
            let tensor = try TensorConversion.makeTensor(
                from: storage, offset: 0, shape: entry.shape, strides: TensorConversion.contiguousStrides(entry.shape),
                fileName: name, key: entry.key)
            result.insert(tensor, forKey: entry.key, sourceDType: entry.dtype)
        }
        return result
    }

    private static func parseEntry(
        _ key: String, _ value: Any, bufferSize: Int, _ bad: (String) -> CheckpointError
    ) throws -> Entry {
        guard let fields = value as? [String: Any] else { throw bad("entry '\(key)' is not an object") }
        guard let dtypeName = fields["dtype"] as? String else { throw bad("entry '\(key)' has no dtype") }
        guard let dtype = TensorDType(rawValue: dtypeName) else {
            throw bad("entry '\(key)': unsupported dtype \(dtypeName)")
        }
        guard let shapeValues = fields["shape"] as? [Any], let shape = integers(shapeValues) else {
            throw bad("entry '\(key)' has no valid shape")
        }
        guard let offsetValues = fields["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
            throw bad("entry '\(key)' has no valid data_offsets")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= bufferSize else {
            throw bad("entry '\(key)': data_offsets [\(begin), \(end)] outside the \(bufferSize)-byte data buffer")
        }
        var count = 1
        for d in shape {
            let (n, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("entry '\(key)': shape \(shape) overflows") }
            count = n
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            throw bad("entry '\(key)': shape \(shape) of \(dtypeName) needs \(count) elements but data_offsets span \(end - begin) bytes")
        }
        return Entry(key: key, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Non-negative integers below 2^53 (exact in JSON doubles), or nil.
    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            // On Linux any NSNumber equal to 0 or 1 also casts to Bool, so JSON booleans
            // are told apart by their Objective-C type code ("c"), not by `is Bool`.
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
            let d = number.doubleValue
            guard d >= 0, d <= 9_007_199_254_740_992, d.rounded() == d else { return nil }
            result.append(Int(d))
        }
        return result
    }
}
