// The TFLite MobileNetV2 converter against the reference Python converter's output
// (Tests/Fixtures/tflite/mobilenet_v2_expected.json, from Tests/Fixtures/generate_tflite.py),
// and damaged or foreign files refused with one line naming the file.

import Crypto
import Foundation
import VisionCheckpoint
import VisionCore
import XCTest

final class TFLiteConversionTests: XCTestCase {
    static let modelName = "mobilenet_v2_1.0_224_quant.tflite"

    /// ../shared/weights/<model> beside the clone, or /work/shared/weights/<model>.
    static var sharedModel: URL? {
        let repoRoot = CheckpointFixtures.directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [repoRoot.deletingLastPathComponent().appendingPathComponent("shared/weights/\(modelName)"),
                          URL(fileURLWithPath: "/work/shared/weights/\(modelName)")]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    func sharedModel() throws -> URL {
        guard let url = Self.sharedModel else {
            throw XCTSkip("../shared/weights/\(Self.modelName) (or /work/shared/weights/) not present: TFLite conversion not checked")
        }
        return url
    }

    struct Expected {
        let keys: [String]
        let tensors: [String: (shape: [Int], sha256: String)]
        let metadata: [String: String]
        let sourceSHA256: String
    }

    static func expected() throws -> Expected {
        let url = CheckpointFixtures.directory.deletingLastPathComponent().appendingPathComponent("tflite/mobilenet_v2_expected.json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let tensors = try XCTUnwrap(json["tensors"] as? [String: [String: Any]]).mapValues { fields in
            ((fields["shape"] as! [NSNumber]).map(\.intValue), fields["sha256"] as! String)
        }
        return Expected(keys: try XCTUnwrap(json["keys"] as? [String]), tensors: tensors,
                        metadata: try XCTUnwrap(json["metadata"] as? [String: String]),
                        sourceSHA256: try XCTUnwrap(json["source_sha256"] as? String))
    }

    /// SHA-256 of the values as float32 little-endian bytes, as generate_tflite.py hashes them.
    static func valueHash(_ tensor: Tensor) -> String {
        let bytes = tensor.values.flatMap { value -> [UInt8] in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Every key (in order), shape, value hash and metadata entry of `state` equals the reference's.
    func assertMatchesReference(_ state: StateDict, keysInOrder: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try Self.expected()
        if keysInOrder {
            XCTAssertEqual(state.keys, expected.keys, "key order", file: file, line: line)
        } else {
            XCTAssertEqual(Set(state.keys), Set(expected.keys), file: file, line: line)
        }
        XCTAssertEqual(state.count, 314, file: file, line: line)
        var matched = 0
        for key in expected.keys {
            guard let tensor = state[key], let reference = expected.tensors[key] else {
                XCTFail("missing \(key)", file: file, line: line)
                continue
            }
            XCTAssertEqual(tensor.shape, reference.shape, key, file: file, line: line)
            if Self.valueHash(tensor) == reference.sha256 { matched += 1 } else { XCTFail("values of \(key) differ", file: file, line: line) }
        }
        XCTAssertEqual(matched, expected.keys.count, file: file, line: line)
        XCTAssertEqual(state.metadata, expected.metadata, file: file, line: line)
    }

    func testSharedMobileNetV2MatchesTheReferenceConverter() throws {
        let url = try sharedModel()
        let expected = try Self.expected()
        let fileHash = SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(fileHash, expected.sourceSHA256, "the shared .tflite is not the one the fixture was made from")
        let start = Date()
        let conversion = try TFLiteMobileNetV2.convert(contentsOf: url)
        print("tflite conversion: \(conversion.stateDict.count) tensors in \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        try assertMatchesReference(conversion.stateDict, keysInOrder: true)
        XCTAssertEqual(conversion.stateDict["classifier.1.weight"]?.shape, [1000, 1280])
        XCTAssertEqual(conversion.stateDict["features.0.0.weight"]?.shape, [32, 3, 3, 3])
        XCTAssertEqual(conversion.stateDict["features.1.conv.0.0.weight"]?.shape, [32, 1, 3, 3])
        XCTAssertEqual(conversion.summary.first,
                       "input: UINT8 (1, 224, 224, 3) scale=0.0078125 zero_point=128  (real = 0.0078125 * (q - 128); "
                           + "torchvision mean=0.501961 std=0.501961 after /255)")
        XCTAssertEqual(conversion.summary.last, "tail operators after classifier: ['RESHAPE', 'SOFTMAX']")
    }

    /// What the converter writes (.safetensors) reads back identical, metadata included.
    func testConvertedSafetensorsReadsBackAsTheReference() throws {
        let url = try sharedModel()
        let output = CheckpointFixtures.temporaryURL("tflite-mobilenet_v2.safetensors")
        defer { try? FileManager.default.removeItem(at: output) }
        let state = try TFLiteMobileNetV2.convert(contentsOf: url).stateDict
        try saveSafetensors(state, to: output, metadata: state.metadata)
        let (loaded, format) = try loadStateDict(from: output)
        XCTAssertEqual(format, .safetensors)
        try assertMatchesReference(loaded, keysInOrder: false)
    }

    /// The load error for `bytes` saved as `name`, and how long the refusal took.
    func refusal(_ bytes: [UInt8], name: String) throws -> (message: String, seconds: Double) {
        let url = CheckpointFixtures.temporaryURL(name)
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let start = Date()
        let message = CheckpointFixtures.errorMessage { _ = try TFLiteMobileNetV2.convert(contentsOf: url) }
        return (message, Date().timeIntervalSince(start))
    }

    func testTruncatedCopiesAreRefusedNamingTheFile() throws {
        let bytes = [UInt8](try Data(contentsOf: try sharedModel()))
        // (The file's last ~64 kB are metadata the converter never reads, so cuts stay below 90%.)
        for length in [3, 8, 100, 4096, bytes.count / 4, bytes.count / 2, bytes.count * 9 / 10] {
            let (message, seconds) = try refusal(Array(bytes[..<length]), name: "truncated_\(length).tflite")
            XCTAssertTrue(message.hasPrefix("truncated_\(length).tflite: "), message)
            XCTAssertFalse(message.contains("\n"), message)
            XCTAssertLessThan(seconds, 0.1, "refusing a \(length)-byte copy took \(seconds) s")
        }
    }

    func testNonTFLiteFileIsRefusedNamingTheFile() throws {
        let text = Array("This is a text file, not a model; it is long enough to have bytes 4..8.\n".utf8)
        let (message, seconds) = try refusal(text, name: "notes.tflite")
        XCTAssertEqual(message, "notes.tflite: bad header: not a TFLite model (bytes 4..8 are not the identifier \"TFL3\")")
        XCTAssertLessThan(seconds, 0.1)
        XCTAssertTrue(TFLiteMobileNetV2.isTFLite(URL(fileURLWithPath: "/nonexistent/model.TFLITE")))
        XCTAssertFalse(TFLiteMobileNetV2.isTFLite(CheckpointFixtures.url("expected.json")))
    }

    /// Offsets pointing outside the file, and a graph that is not MobileNetV2, give one line each.
    func testHostileOffsetsAndForeignGraphsAreRefused() throws {
        let bytes = [UInt8](try Data(contentsOf: try sharedModel()))
        var rootOutside = bytes
        rootOutside.replaceSubrange(0 ..< 4, with: [0xF0, 0xFF, 0xFF, 0x7F])  // root table at 2^31 - 16
        let (rootMessage, _) = try refusal(rootOutside, name: "root.tflite")
        XCTAssertTrue(rootMessage.hasPrefix("root.tflite: truncated file (model table: 4 bytes at offset 2147483632"), rootMessage)

        // A minimal valid flatbuffer with no subgraphs: root offset 12, "TFL3", then a
        // vtable at 8 [4 bytes, 4-byte table, no fields] and the table at 12 whose soffset 4 points back to it.
        let empty: [UInt8] = [12, 0, 0, 0] + Array("TFL3".utf8) + [4, 0, 4, 0, 4, 0, 0, 0]
        XCTAssertEqual(try refusal(empty, name: "empty.tflite").message, "empty.tflite: expected 1 subgraph, found 0")

        // Seeded damage to the first 4 kB and the last 64 kB, where this file keeps its tables (the
        // weights lie between): an error naming the file or a conversion, never a crash.
        var generator = SplitMix64(seed: 16)
        var refused = 0, messages = Set<String>()
        for trial in 0 ..< 60 {
            var damaged = bytes
            for _ in 0 ..< 4 {
                let range = Bool.random(using: &generator) ? 8 ..< 4096 : bytes.count - 65536 ..< bytes.count
                damaged[Int.random(in: range, using: &generator)] = UInt8.random(in: 0 ... 255, using: &generator)
            }
            do {
                _ = try TFLiteMobileNetV2.convert(bytes: damaged, name: "damaged.tflite")
            } catch {
                let message = String(describing: error)
                XCTAssertTrue(message.hasPrefix("damaged.tflite: ") && !message.contains("\n"), message)
                messages.insert(message)
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 0)
        print("damaged copies: \(messages.count) distinct refusals, e.g. \(messages.sorted().first ?? "none")")
        print("damaged copies refused: \(refused) of 60")
    }
}

/// A small seeded generator so the damage test is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
