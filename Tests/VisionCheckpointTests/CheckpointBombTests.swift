// Hostile checkpoints built to exhaust time or memory: safetensors headers that
// promise more than the file holds, and pickle bombs. Each must be refused with
// an error naming the file within 100 ms and without allocating what it claims.
// Also the inputs Tests/Fuzz found (Tests/Fixtures/fuzz).

import Foundation
import VisionCheckpoint
import XCTest

final class CheckpointBombTests: XCTestCase {
    /// Refusal budget per file; the point is "at once", not "eventually".
    static let maxMilliseconds = 100.0
    /// Peak resident growth allowed while refusing one file.
    static let maxPeakGrowthKiB = 64 * 1024

    /// Loads `bytes` as `name`, requires an error naming the file and containing
    /// `fragment`, refused within the time and memory budgets.
    private func assertRefused(_ bytes: [UInt8], name: String, mentioning fragment: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        var text = ""
        let (milliseconds, peakGrowth) = PeakMemory.measure {
            text = CheckpointFixtures.errorMessage({ _ = try loadStateDict(bytes: bytes, name: name) }, file: file, line: line)
        }
        print("\(name): refused in \(String(format: "%.2f", milliseconds)) ms, peak growth \(peakGrowth) KiB: \(text)")
        XCTAssertTrue(text.hasPrefix(name + ": "), text, file: file, line: line)
        XCTAssertTrue(text.contains(fragment), "'\(fragment)' missing from: \(text)", file: file, line: line)
        XCTAssertFalse(text.contains("\n"), "message spans lines: \(text)", file: file, line: line)
        XCTAssertLessThan(milliseconds, Self.maxMilliseconds, text, file: file, line: line)
        XCTAssertLessThan(peakGrowth, Self.maxPeakGrowthKiB, text, file: file, line: line)
    }

    /// A safetensors file: length-prefixed `header` JSON, then `dataBytes` zero bytes.
    private func safetensors(_ header: String, dataBytes: Int = 16) -> [UInt8] {
        let json = Array(header.utf8)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + [UInt8](repeating: 0, count: dataBytes)
    }

    func testSafetensorsHugeShapeIsRefused() {
        // 10^12 float32 elements (4 TB) claimed over 4 bytes of data.
        assertRefused(safetensors(#"{"w": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 4]}}"#),
                      name: "huge_shape.safetensors", mentioning: "needs 1000000000000 elements but data_offsets span 4 bytes")
        // A shape whose element count overflows Int.
        assertRefused(safetensors(#"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 4]}}"#),
                      name: "overflow_shape.safetensors", mentioning: "overflows")
    }

    func testSafetensorsOffsetsOutsideTheFileAreRefused() {
        assertRefused(safetensors(#"{"w": {"dtype": "F32", "shape": [262144], "data_offsets": [0, 1048576]}}"#),
                      name: "past_end.safetensors", mentioning: "data_offsets [0, 1048576] outside the 16-byte data buffer")
        assertRefused(safetensors(#"{"w": {"dtype": "U8", "shape": [1], "data_offsets": [9007199254740991, 9007199254740992]}}"#),
                      name: "far_offset.safetensors", mentioning: "outside the 16-byte data buffer")
        assertRefused(safetensors(#"{"w": {"dtype": "U8", "shape": [0], "data_offsets": [8, 4]}}"#),
                      name: "reversed.safetensors", mentioning: "data_offsets [8, 4]")
    }

    func testSafetensorsOverlappingRangesAreRefused() {
        let header = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "#
            + #""b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#
        assertRefused(safetensors(header), name: "overlap.safetensors", mentioning: "data of tensors 'a' and 'b' overlap")
    }

    func testSafetensorsDTypeAndSizeMismatchIsRefused() {
        // Three float32 need 12 bytes, the range has 8; an F16 pair needs 4, the range has 6.
        assertRefused(safetensors(#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#),
                      name: "short.safetensors", mentioning: "shape [3] of F32 needs 3 elements but data_offsets span 8 bytes")
        assertRefused(safetensors(#"{"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 6]}}"#),
                      name: "long.safetensors", mentioning: "data_offsets span 6 bytes")
    }

    func testSafetensorsHeaderLengthBeyondTheFileIsRefused() {
        var bytes = safetensors(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#)
        bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(50_000_000).littleEndian, Array.init))
        assertRefused(bytes, name: "long_header.safetensors", mentioning: "truncated file (safetensors header needs 50000000 bytes")
        // 2^63: past the 100 MB bound on headers (the sniffer then sees no safetensors at all).
        bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: (UInt64(1) << 63).littleEndian, Array.init))
        assertRefused(bytes, name: "giant_header.safetensors", mentioning: "unknown checkpoint format")
    }

    func testPickleDeepNestingIsRefused() {
        // 1.1 million MARKs: past the mark limit (2^18), refused without recursion.
        let marks = [UInt8](repeating: 0x28, count: 1_100_000)
        assertRefused(CheckpointFixtures.legacyFile([0x80, 0x02] + marks + [0x2e]), name: "marks.pth", mentioning: "too many marks")
        // 1.1 million EMPTY_LISTs on the stack: past the stack limit.
        let lists = [UInt8](repeating: 0x5d, count: 1_100_000)
        assertRefused(CheckpointFixtures.legacyFile([0x80, 0x02] + lists + [0x2e]), name: "stack.pth", mentioning: "stack deeper than 262144")
    }

    func testPickleHugeMemoIndexIsRefused() {
        // LONG_BINGET 0xFFFFFFFF on an empty memo; LONG_BINPUT there first works, as in Python, and costs one entry.
        assertRefused(CheckpointFixtures.legacyFile([0x80, 0x02, 0x6a, 0xff, 0xff, 0xff, 0xff, 0x2e]),
                      name: "memo.pth", mentioning: "memo index 4294967295 is not set")
        let putThenGet: [UInt8] = [0x80, 0x02, 0x4e, 0x72, 0xff, 0xff, 0xff, 0xff, 0x30, 0x6a, 0xff, 0xff, 0xff, 0xff, 0x2e]
        assertRefused(CheckpointFixtures.legacyFile(putThenGet) + [0x80, 0x02, 0x5d, 0x2e],
                      name: "memo_put.pth", mentioning: "not a state dict: the pickle holds a None")
    }

    func testPickleGiantLong4IsRefused() {
        // LONG4 announcing 2^31 - 1 bytes: refused from the length, nothing allocated.
        assertRefused(CheckpointFixtures.legacyFile([0x80, 0x02, 0x8b, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x2e]),
                      name: "long4.pth", mentioning: "LONG4 of 2147483647 bytes")
    }

    func testPickleLongMemoChainIsRefusedQuickly() {
        // "Billion laughs" through the memo: t = (); then 150k rounds of
        // BINGET 0, BINGET 0, TUPLE2, BINPUT 0, POP, so memo 0 holds (t, t) of the
        // previous round: 2^150000 leaves if anything expanded it. The arena shares
        // them (150k two-item tuples), and nothing recurses over it.
        var pickle: [UInt8] = [0x80, 0x02, 0x29, 0x71, 0x00, 0x30]
        for _ in 0 ..< 150_000 { pickle += [0x68, 0x00, 0x68, 0x00, 0x86, 0x71, 0x00, 0x30] }
        pickle += [0x68, 0x00, 0x2e]
        assertRefused(CheckpointFixtures.legacyFile(pickle) + [0x80, 0x02, 0x5d, 0x2e],
                      name: "laughs.pth", mentioning: "not a state dict: the pickle holds a tuple")
        // A list memoised once and appended to itself 300k times through BINGET.
        var selfList: [UInt8] = [0x80, 0x02, 0x5d, 0x71, 0x00]
        for _ in 0 ..< 300_000 { selfList += [0x68, 0x00, 0x61] }
        selfList += [0x2e]
        assertRefused(CheckpointFixtures.legacyFile(selfList) + [0x80, 0x02, 0x5d, 0x2e],
                      name: "self_list.pth", mentioning: "not a state dict: the pickle holds a list")
    }

    // MARK: - Inputs found by Tests/Fuzz

    func testZipEntryNamesWithLineBreaksStayOnOneLine() throws {
        // Fuzzed tiny.pth copies whose zip entry names hold a line feed: the message
        // quoted the name verbatim and spanned two lines. Now the break shows as \n.
        for name in ["zip_entry_name_with_line_break.pth", "zip_directory_name_with_line_break.pth"] {
            let bytes = try [UInt8](Data(contentsOf: CheckpointFixtures.fuzzInput(name)))
            assertRefused(bytes, name: name, mentioning: "\\n")
        }
    }
}
