// singleLine (error messages quoting file content stay on one line) and
// FileContents (empty files read without swift-foundation's per-read leak).
// Both were found by Tests/Fuzz.

import Foundation
import VisionCore
import XCTest

final class OneLineTextAndFileContentsTests: XCTestCase {
    func testSingleLineEscapesLineBreaksAndControlCharacters() {
        XCTAssertEqual(singleLine("plain name.jpg"), "plain name.jpg")
        XCTAssertEqual(singleLine("café ✓"), "café ✓")
        XCTAssertEqual(singleLine("a\nb\r\nc\td"), "a\\nb\\r\\nc\\td")
        XCTAssertEqual(singleLine("bell\u{07} esc\u{1b} del\u{7f} nel\u{85}"), "bell\\u{7} esc\\u{1b} del\\u{7f} nel\\u{85}")
        XCTAssertEqual(singleLine("ls\u{2028}ps\u{2029}"), "ls\\u{2028}ps\\u{2029}")
        for text in ["x\ny", "\u{0b}\u{0c}", "\u{2028}"] {
            XCTAssertFalse(singleLine(text).contains(where: \.isNewline), singleLine(text))
        }
    }

    private func temporaryFile(_ name: String, _ contents: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vision-core-\(getpid())-\(name)")
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testFileContentsReadsFilesLikeFoundation() throws {
        let text = try temporaryFile("text.txt", "0 0.5 0.5 0.1 0.1\ncafé\n")
        defer { try? FileManager.default.removeItem(at: text) }
        XCTAssertEqual(FileContents.utf8Text(of: text), "0 0.5 0.5 0.1 0.1\ncafé\n")
        XCTAssertEqual(try FileContents.data(of: text), try Data(contentsOf: text))
        let empty = try temporaryFile("empty.txt", "")
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertEqual(FileContents.utf8Text(of: empty), "")
        XCTAssertEqual(try FileContents.data(of: empty), Data())
        let missing = URL(fileURLWithPath: "/nonexistent/vision/file.txt")
        XCTAssertNil(FileContents.utf8Text(of: missing))
        XCTAssertThrowsError(try FileContents.data(of: missing))
        try Data([0xff, 0xfe, 0x00]).write(to: text)
        XCTAssertNil(FileContents.utf8Text(of: text), "not UTF-8")
    }

    func testReadingEmptyFilesDoesNotLeak() throws {
        // swift-foundation 6.3 keeps 4 KiB per empty-file read: 50k reads would hold 200 MB.
        let empty = try temporaryFile("leak.txt", "")
        defer { try? FileManager.default.removeItem(at: empty) }
        let before = residentKiB()
        for _ in 0 ..< 50_000 {
            XCTAssertEqual(FileContents.utf8Text(of: empty)?.isEmpty, true)
            XCTAssertEqual(try FileContents.data(of: empty).count, 0)
        }
        let growth = residentKiB() - before
        print("100k empty-file reads: resident growth \(growth) KiB")
        XCTAssertLessThan(growth, 20_000)
    }

    /// Current resident set size (VmRSS of /proc/self/status) in KiB.
    private func residentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
