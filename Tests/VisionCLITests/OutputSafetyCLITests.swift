// predict never replaces an input image or a file it did not write: every refused
// case leaves the input files' checksums unchanged and writes nothing at all.

import Foundation
import VisionDetection
import XCTest

final class OutputSafetyCLITests: XCTestCase {
    var scratch: URL!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        scratch = try CLI.temporaryDirectory("output-safety")
        env = CLI.environment(home: scratch.appendingPathComponent("home"))
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// `photos/` with two real images (one upper-case .JPG) in a fresh working folder.
    func makePhotos() throws -> (work: URL, files: [String]) {
        let work = scratch.appendingPathComponent("work-\(UUID().uuidString.prefix(8))")
        let photos = work.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let decode = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/images/decode")
        try FileManager.default.copyItem(at: CLI.fixtureModels.appendingPathComponent("pets.png"), to: photos.appendingPathComponent("pets.png"))
        try FileManager.default.copyItem(at: decode.appendingPathComponent("baseline.jpg"), to: photos.appendingPathComponent("X.JPG"))
        return (work, ["photos/X.JPG", "photos/pets.png"])
    }

    func checksums(_ files: [String], in work: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for file in files { out[file] = CLI.sha256Hex(try Data(contentsOf: work.appendingPathComponent(file))) }
        return out
    }

    func listing(_ folder: URL) -> [String] {
        let names = FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String } ?? []
        return names.filter { !$0.hasPrefix("stdout-") && !$0.hasPrefix("stderr-") }.sorted()
    }

    func assertRefused(_ arguments: [String], in work: URL, files: [String], mentioning needle: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try checksums(files, in: work)
        let tree = listing(work)
        let result = try CLI.run(["predict"] + arguments + CLI.modelArguments + ["--quiet"], environment: env,
                                 scratch: scratch, directory: work)
        XCTAssertNotEqual(result.status, 0, "accepted: \(arguments)", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(needle), "stderr lacks '\(needle)': \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.contains("Error") }.count, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(try checksums(files, in: work), before, "an input changed: \(arguments)", file: file, line: line)
        XCTAssertEqual(listing(work), tree, "files were written: \(arguments)", file: file, line: line)
    }

    func testAnnotatedCopiesNeverReplaceInputs() throws {
        let (work, files) = try makePhotos()
        // The issue's two reports: -d . from the folder above photos/, and -d into the image's own folder.
        try assertRefused(["photos", "-d", ".", "-o", "p.jsonl"], in: work, files: files, mentioning: "would overwrite the input image photos/")
        try assertRefused(["photos/X.JPG", "-d", "photos"], in: work, files: files, mentioning: "would overwrite the input image photos/X.JPG")
        // Another spelling of the same folder, and a symbolic link to it.
        try assertRefused(["photos", "-d", "./photos/.."], in: work, files: files, mentioning: "would overwrite the input image")
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("alias"), withDestinationURL: work.appendingPathComponent("photos"))
        try assertRefused(["photos/pets.png", "-d", "alias"], in: work, files: files, mentioning: "would overwrite the input image")
        // A hard link to an input where the copy would go.
        let other = work.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try FileManager.default.linkItem(at: work.appendingPathComponent("photos/pets.png"), to: other.appendingPathComponent("pets.png"))
        try assertRefused(["photos/pets.png", "-d", "other"], in: work, files: files, mentioning: "would overwrite the input image")
    }

    func testOutputFileNeverReplacesAnInputOrAForeignFile() throws {
        let (work, files) = try makePhotos()
        try assertRefused(["photos", "-o", "photos/pets.png"], in: work, files: files, mentioning: "--output is the input image")
        try Data("my notes\n".utf8).write(to: work.appendingPathComponent("notes.txt"))
        try assertRefused(["photos", "-o", "notes.txt"], in: work, files: files + ["notes.txt"], mentioning: "is not JSON Lines written by vision predict")
        // --overwrite replaces a foreign file, but never an input.
        try assertRefused(["photos", "-o", "photos/X.JPG", "--overwrite"], in: work, files: files, mentioning: "--output is the input image")
        let replaced = try CLI.run(["predict", "photos", "-o", "notes.txt", "--overwrite", "--quiet"] + CLI.modelArguments,
                                   environment: env, scratch: scratch, directory: work)
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertEqual(try CLI.records(String(contentsOf: work.appendingPathComponent("notes.txt"), encoding: .utf8)).count, 2)
    }

    func testRerunReplacesItsOwnCopiesButNotForeignFiles() throws {
        let (work, files) = try makePhotos()
        let run = ["predict", "photos", "-o", "deep/er/p.jsonl", "-d", "annotated", "--quiet"] + CLI.modelArguments
        // -o creates missing folders as -d does.
        let first = try CLI.run(run, environment: env, scratch: scratch, directory: work)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(try CLI.records(String(contentsOf: work.appendingPathComponent("deep/er/p.jsonl"), encoding: .utf8)).count, 2)
        let copies = ["annotated/photos/X.JPG", "annotated/photos/pets.png"]
        for copy in copies { XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent(copy).path), copy) }
        // The same command again replaces vision's own copies and predictions file.
        let second = try CLI.run(run, environment: env, scratch: scratch, directory: work)
        XCTAssertEqual(second.status, 0, second.stderr)
        // A user's own file where a copy would go is refused, then replaced only with --overwrite.
        let decode = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/images/decode")
        try FileManager.default.removeItem(at: work.appendingPathComponent(copies[0]))
        try FileManager.default.copyItem(at: decode.appendingPathComponent("baseline.jpg"), to: work.appendingPathComponent(copies[0]))
        try assertRefused(Array(run.dropFirst().dropLast(CLI.modelArguments.count + 1)), in: work, files: files + [copies[0]],
                          mentioning: "is not an annotated copy written by vision")
        let forced = try CLI.run(run + ["--overwrite"], environment: env, scratch: scratch, directory: work)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNotEqual(try checksums([copies[0]], in: work)[copies[0]], try checksums(["photos/X.JPG"], in: work)["photos/X.JPG"])
    }

    func testVersion() throws {
        let result = try CLI.run(["--version"], environment: env, scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertNotNil(result.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression), result.stdout)
    }
}
