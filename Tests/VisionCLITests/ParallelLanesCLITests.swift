import Foundation
import XCTest

/// `vision predict --threads N` over a folder detects N images at once (one lane per
/// thread, each with a one-thread backend) and must give exactly the one-thread run's
/// results: the same lines in the same order (errors of undecodable files included)
/// and the same annotated copies, byte for byte.
final class ParallelLanesCLITests: XCTestCase {
    func testLanesGiveTheOneThreadRunsOutputInOrder() throws {
        let scratch = try CLI.temporaryDirectory("lanes")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let tree = try ImageTree.make(in: scratch, count: 9)
        let env = CLI.environment(home: scratch)
        var outputs: [Int: (lines: String, media: [String: Data])] = [:]
        for threads in [1, 3] {
            let media = scratch.appendingPathComponent("media\(threads)")
            let result = try CLI.run(["predict"] + CLI.modelArguments
                                     + ["--threads", "\(threads)", "--min-prob", "0.05", "-d", media.path, tree.root.path],
                                     environment: env, scratch: scratch)
            XCTAssertEqual(result.status, 0, result.stderr)
            var files: [String: Data] = [:]
            let enumerator = FileManager.default.enumerator(atPath: media.path)
            while let relative = enumerator?.nextObject() as? String {
                var isDirectory: ObjCBool = false
                let path = media.appendingPathComponent(relative).path
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    files[relative] = try Data(contentsOf: URL(fileURLWithPath: path))
                }
            }
            outputs[threads] = (result.stdout, files)
        }
        let one = try XCTUnwrap(outputs[1]), three = try XCTUnwrap(outputs[3])
        let records = try CLI.records(one.lines)
        XCTAssertEqual(records.count, tree.images.count, "one line per image, corrupt ones included")
        XCTAssertEqual(records.filter { $0.object["error"] != nil }.count, tree.corrupt.count)
        XCTAssertGreaterThan(records.filter { ($0.object["objects"] as? [Any])?.isEmpty == false }.count, 0,
                             "some image has detections (else the comparison below shows little)")
        XCTAssertEqual(three.lines, one.lines, "--threads 3 (three lanes) gives the --threads 1 lines, in order")
        XCTAssertEqual(Set(three.media.keys), Set(one.media.keys))
        XCTAssertEqual(one.media.count, tree.images.count - tree.corrupt.count, "an annotated copy per decodable image")
        for (name, data) in one.media { XCTAssertEqual(three.media[name], data, "annotated copy \(name)") }
    }
}
