// Hostile and damaged files must fail with a precise error, never crash, and
// never run anything.

import Foundation
import VisionCheckpoint
import VisionCore
import XCTest

final class HostileCheckpointTests: XCTestCase {
    static let marker = "/tmp/vision_checkpoint_malicious_marker"

    private func message(loading name: String) -> String {
        CheckpointFixtures.errorMessage { _ = try loadStateDict(from: CheckpointFixtures.url(name)) }
    }

    /// The load error's message for in-memory `bytes` called `name`.
    private func message(loadingBytes bytes: [UInt8], name: String) -> String {
        CheckpointFixtures.errorMessage { _ = try loadStateDict(bytes: bytes, name: name) }
    }

    private func legacyFile(_ pickle: [UInt8]) -> [UInt8] { CheckpointFixtures.legacyFile(pickle) }

    func testMaliciousGlobalIsRefusedAndNeverExecuted() {
        try? FileManager.default.removeItem(atPath: Self.marker)
        let text = message(loading: "malicious.pth")
        XCTAssertTrue(text.contains("malicious.pth"), text)
        XCTAssertTrue(text.contains("refused pickle global os.system"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.marker), "the payload ran")
    }

    func testOtherGlobalsAreRefusedByName() {
        // GLOBAL builtins.eval; a plausible torch name that is not in the allow-list.
        for (module, name) in [("builtins", "eval"), ("torch", "load"), ("torch._utils", "_rebuild_qtensor")] {
            let pickle: [UInt8] = [0x80, 0x02, 0x63] + Array("\(module)\n\(name)\n".utf8) + [0x2e]
            let text = message(loadingBytes: legacyFile(pickle), name: "global.pth")
            XCTAssertTrue(text.contains("global.pth: refused pickle global \(module).\(name)"), text)
        }
    }

    func testUnknownOpcodeIsRefused() {
        // 'i' (INST) builds an object from a class name: never allowed.
        let pickle: [UInt8] = [0x80, 0x02, 0x28, 0x69] + Array("os\nsystem\n".utf8) + [0x2e]
        let text = message(loadingBytes: legacyFile(pickle), name: "inst.pth")
        XCTAssertTrue(text.contains("inst.pth: refused pickle opcode 0x69"), text)
    }

    func testDeepNestingDoesNotOverflowTheStack() {
        // 300k nested 1-tuples: a recursive reader or recursive deinit would crash.
        let pickle: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 300_000) + [0x2e]
            + [0x80, 0x02, 0x5d, 0x2e]  // the (empty) storage key list
        let text = message(loadingBytes: legacyFile(pickle), name: "deep.pth")
        XCTAssertTrue(text.contains("deep.pth: not a state dict"), text)
    }

    func testBadMemoAndStackUnderflowAreErrors() {
        let badMemo: [UInt8] = [0x80, 0x02, 0x68, 0x07, 0x2e]  // BINGET 7, never put
        XCTAssertTrue(message(loadingBytes: legacyFile(badMemo), name: "memo.pth").contains("memo index 7 is not set"))
        let underflow: [UInt8] = [0x80, 0x02, 0x86, 0x2e]  // TUPLE2 on an empty stack
        XCTAssertTrue(message(loadingBytes: legacyFile(underflow), name: "under.pth").contains("stack underflow"))
        let hugeString: [UInt8] = [0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x41, 0x2e]  // BINUNICODE of 2 GiB
        XCTAssertTrue(message(loadingBytes: legacyFile(hugeString), name: "str.pth").contains("truncated"))
    }

    func testTruncatedFilesNameTheProblem() {
        for name in ["truncated.pth", "truncated_legacy.pth", "truncated_header.safetensors"] {
            let text = message(loading: name)
            XCTAssertTrue(text.hasPrefix(name + ": "), text)
            XCTAssertTrue(text.contains("truncated"), text)
        }
        let text = message(loading: "truncated.safetensors")
        XCTAssertTrue(text.contains("truncated.safetensors: bad header"), text)
        XCTAssertTrue(text.contains("outside the"), text)
    }

    func testEveryTruncationOfEveryFormatFailsCleanly() throws {
        for name in ["tiny.pth", "tiny_legacy.pth", "tiny.safetensors"] {
            let full = try [UInt8](Data(contentsOf: CheckpointFixtures.url(name)))
            var failures = 0
            for length in 0 ..< full.count {
                let text = message(loadingBytes: Array(full[..<length]), name: "cut-" + name)
                if text.hasPrefix("cut-" + name + ": ") { failures += 1 }
            }
            XCTAssertEqual(failures, full.count, "\(name): every prefix must fail with a message naming the file")
        }
    }

    func testRandomCorruptionNeverCrashes() throws {
        // Deterministic byte flips inside the pickle and headers: errors or successes, never a crash.
        var rng = SplitMix64(seed: 42)
        var errors = 0
        for name in ["tiny.pth", "tiny_legacy.pth", "tiny.safetensors"] {
            let full = try [UInt8](Data(contentsOf: CheckpointFixtures.url(name)))
            for _ in 0 ..< 2000 {
                var bytes = full
                for _ in 0 ..< 3 { bytes[Int(rng.next() % UInt64(min(bytes.count, 1200)))] = UInt8(truncatingIfNeeded: rng.next()) }
                do { _ = try loadStateDict(bytes: bytes, name: "fuzz-" + name) } catch { errors += 1 }
            }
        }
        print("corrupted files rejected: \(errors) of 6000")
        XCTAssertGreaterThan(errors, 0)
    }

    func testOverlappingSafetensorsRanges() {
        let text = message(loading: "overlapping.safetensors")
        XCTAssertEqual(text, "overlapping.safetensors: data of tensors 'a' and 'b' overlap")
    }

    func testUnsupportedSafetensorsDType() {
        let text = message(loading: "unsupported_dtype.safetensors")
        XCTAssertTrue(text.contains("unsupported_dtype.safetensors"), text)
        XCTAssertTrue(text.contains("unsupported dtype C64"), text)
    }

    func testEmptyFileFromDisk() throws {
        let url = CheckpointFixtures.temporaryURL("empty.pth")
        try Data().write(to: url)
        let text = CheckpointFixtures.errorMessage { _ = try loadStateDict(from: url) }
        XCTAssertEqual(text, "empty.pth: truncated file (file is empty)")
        let missing = CheckpointFixtures.errorMessage { _ = try loadStateDict(from: CheckpointFixtures.url("absent.pth")) }
        XCTAssertTrue(missing.hasPrefix("absent.pth: cannot open"), missing)
    }

    func testCompressedZipEntriesAreReported() {
        let text = message(loading: "compressed.pth")
        XCTAssertTrue(text.hasPrefix("compressed.pth: bad header: zip entry "), text)
        XCTAssertTrue(text.contains("is compressed (method 8)"), text)
    }

    func testHugeExpandedViewIsRefused() {
        // _rebuild_tensor_v2 of a 1-element storage with size (2^20, 2^20) and stride (0, 0):
        // valid indices, but 4 TiB to materialise.
        var pickle: [UInt8] = [0x80, 0x02, 0x7d, 0x58, 1, 0, 0, 0, 0x77]  // {} 'w'
        pickle += [0x63] + Array("torch._utils\n_rebuild_tensor_v2\n".utf8) + [0x28, 0x28]
        pickle += [0x58, 7, 0, 0, 0] + Array("storage".utf8) + [0x63] + Array("torch\nFloatStorage\n".utf8)
        pickle += [0x58, 1, 0, 0, 0, 0x30, 0x58, 3, 0, 0, 0] + Array("cpu".utf8) + [0x4b, 1, 0x74, 0x51]  // ('storage', cls, '0', 'cpu', 1)
        pickle += [0x4b, 0, 0x4a, 0, 0, 0x10, 0, 0x4a, 0, 0, 0x10, 0, 0x86, 0x4b, 0, 0x4b, 0, 0x86, 0x89, 0x4e, 0x74, 0x52]
        pickle += [0x73, 0x2e]  // SETITEM, STOP
        let keys: [UInt8] = [0x80, 0x02, 0x5d, 0x58, 1, 0, 0, 0, 0x30, 0x61, 0x2e]  // ['0']
        let storage: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3f]  // 1 element: 1.0
        let text = message(loadingBytes: legacyFile(pickle) + keys + storage, name: "expand.pth")
        XCTAssertTrue(text.hasPrefix("expand.pth: tensor 'w': storage out of range"), text)
        XCTAssertTrue(text.contains("1099511627776 elements"), text)
    }

    func testUnknownFormat() {
        let text = message(loadingBytes: Array("just some text, not a checkpoint".utf8), name: "notes.txt")
        XCTAssertTrue(text.contains("notes.txt: unknown checkpoint format"), text)
    }
}
