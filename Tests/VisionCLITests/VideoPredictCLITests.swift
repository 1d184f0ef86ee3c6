// `vision predict` on videos end to end: one line per frame with ffprobe's frame
// count and timestamps, --every, a truncated clip's frames plus its error line in
// a batch that goes on, the annotated MP4 (read back through VisionVideo: same
// frame count, size and frame rate), output safety, and --resume per frame.

import Foundation
import VisionVideo
import XCTest

final class VideoPredictCLITests: XCTestCase {
    var scratch: URL!
    var env: [String: String] = [:]
    static let fixtures = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/videos")
    static let clips = ["h264.mp4", "mpeg4.avi", "truncated.mp4", "vfr.mp4", "vp9.webm"]

    override func setUpWithError() throws {
        scratch = try CLI.temporaryDirectory("video")
        env = CLI.environment(home: scratch.appendingPathComponent("home"))
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// `clips/` in a fresh working folder: the fixture clips, one image and a text file.
    func makeClips(_ names: [String] = clips) throws -> URL {
        let work = scratch.appendingPathComponent("work-\(UUID().uuidString.prefix(8))")
        let folder = work.appendingPathComponent("clips")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in names {
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try FileManager.default.copyItem(at: CLI.fixtureModels.appendingPathComponent("pets.png"), to: folder.appendingPathComponent("pets.png"))
        try Data("notes\n".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        return work
    }

    func predict(_ arguments: [String], in work: URL) throws -> CLI.Result {
        try CLI.run(["predict"] + arguments + CLI.modelArguments + ["--min-prob", "0.3"], environment: env,
                    scratch: scratch, directory: work)
    }

    /// ffprobe's timestamps (seconds) of `clip`, from the committed record.
    func ffprobeTimes(_ clip: String) throws -> [Double] {
        let url = Self.fixtures.appendingPathComponent(clip + ".ffprobe.json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return try (json["frames"] as? [[String: Any]] ?? []).map {
            try XCTUnwrap(($0["best_effort_timestamp_time"] as? String).flatMap(Double.init))
        }
    }

    /// The frame lines of `file` in output order: (frame, time).
    func frameLines(_ output: String, file: String) throws -> [(frame: Int, time: Double)] {
        try CLI.records(output).filter { $0.file == file && $0.object["frame"] != nil }.map {
            (try XCTUnwrap($0.object["frame"] as? Int), try XCTUnwrap($0.object["time"] as? Double))
        }
    }

    func assertTimes(_ got: [(frame: Int, time: Double)], _ want: [(frame: Int, time: Double)], _ clip: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.map(\.frame), want.map(\.frame), clip, file: file, line: line)
        for (g, w) in zip(got, want) { XCTAssertEqual(g.time, w.time, accuracy: 5e-7, "\(clip) frame \(g.frame)", file: file, line: line) }
    }

    func testFolderOfVideosOneLinePerFrameAtFFprobesTimes() throws {
        let work = try makeClips()
        let result = try predict(["clips", "--quiet"], in: work)
        XCTAssertEqual(result.status, 0, result.stderr)
        for clip in Self.clips {
            let times = try ffprobeTimes(clip)
            let lines = try frameLines(result.stdout, file: "clips/" + clip)
            assertTimes(lines, times.enumerated().map { ($0.offset, $0.element) }, clip)
        }
        let records = try CLI.records(result.stdout)
        // The truncated clip: its 12 decodable frames, then one error line, then the batch goes on.
        let errors = records.enumerated().filter { $0.element.object["error"] != nil }
        XCTAssertEqual(errors.map(\.element.file), ["clips/truncated.mp4"], result.stdout)
        let errorIndex = try XCTUnwrap(errors.first?.offset)
        XCTAssertEqual(records[errorIndex - 1].file, "clips/truncated.mp4")
        XCTAssertEqual(records[errorIndex - 1].object["frame"] as? Int, 11)
        XCTAssertEqual(records[errorIndex + 1].file, "clips/vfr.mp4", "the batch goes on after the truncated clip")
        let message = try XCTUnwrap(records[errorIndex].object["error"] as? String)
        XCTAssertTrue(message.hasPrefix("clips/truncated.mp4: truncated"), message)
        XCTAssertTrue(result.stderr.contains("error: clips/truncated.mp4: truncated"), result.stderr)
        // The image among them keeps its one line; key order of a frame line.
        XCTAssertEqual(records.filter { $0.file == "clips/pets.png" }.count, 1)
        let frameLine = try XCTUnwrap(result.stdoutLines.first { $0.contains("\"frame\"") })
        XCTAssertTrue(frameLine.hasPrefix("{\"file\": \"clips/h264.mp4\", \"frame\": 0, \"time\": 0.0, \"objects\": ["), frameLine)
        XCTAssertTrue(result.stderr.contains("1 image and 5 videos (74 frames) processed, 1 failed"), result.stderr)
        XCTAssertTrue(result.stderr.contains("1 non-image file skipped"), result.stderr)
        XCTAssertTrue(result.stderr.contains("frames/s"), result.stderr)
    }

    func testEveryNthFrame() throws {
        let work = try makeClips(["h264.mp4", "vfr.mp4"])
        let result = try predict(["clips/h264.mp4", "clips/vfr.mp4", "--every", "5", "--quiet"], in: work)
        XCTAssertEqual(result.status, 0, result.stderr)
        for clip in ["h264.mp4", "vfr.mp4"] {
            let times = try ffprobeTimes(clip)
            let want = times.enumerated().filter { $0.offset % 5 == 0 }.map { ($0.offset, $0.element) }
            assertTimes(try frameLines(result.stdout, file: "clips/" + clip), want, clip)
        }
        XCTAssertNotEqual(try predict(["clips", "--every", "0"], in: work).status, 0)
    }

    func testTruncatedClipAloneExitsZeroAndUnreadableVideoIsAnErrorLine() throws {
        let work = try makeClips(["truncated.mp4"])
        try Data("not a video\n".utf8).write(to: work.appendingPathComponent("clips/broken.mov"))
        let truncated = try predict(["clips/truncated.mp4", "--quiet"], in: work)
        XCTAssertEqual(truncated.status, 0, truncated.stderr)
        XCTAssertEqual(try frameLines(truncated.stdout, file: "clips/truncated.mp4").count, try ffprobeTimes("truncated.mp4").count)
        XCTAssertEqual(try CLI.records(truncated.stdout).last?.object["error"] != nil, true)

        let broken = try predict(["clips/broken.mov", "--quiet"], in: work)
        XCTAssertNotEqual(broken.status, 0, "nothing was processed")
        let records = try CLI.records(broken.stdout)
        XCTAssertEqual(records.count, 1)
        let message = try XCTUnwrap(records.first?.object["error"] as? String)
        XCTAssertTrue(message.hasPrefix("clips/broken.mov: cannot open as a video"), message)
        XCTAssertFalse(broken.stderr.contains("Fatal"), broken.stderr)
    }

    func testAnnotatedVideoKeepsFrameCountSizeAndRate() throws {
        let work = try makeClips(["h264.mp4", "vfr.mp4", "mpeg4.avi", "vp9.webm"])
        let result = try predict(["clips", "-d", "annotated", "--every", "3", "--quiet"], in: work)
        XCTAssertEqual(result.status, 0, result.stderr)
        let written = ["h264.mp4": "h264.mp4", "vfr.mp4": "vfr.mp4", "mpeg4.avi": "mpeg4.avi.mp4", "vp9.webm": "vp9.webm.mp4"]
        for (clip, name) in written.sorted(by: { $0.key < $1.key }) {
            let input = try VideoReader(path: work.appendingPathComponent("clips/" + clip).path)
            let output = try VideoReader(path: work.appendingPathComponent("annotated/clips/" + name).path)
            XCTAssertEqual(output.info.codec, "h264", clip)
            XCTAssertEqual([output.info.width, output.info.height], [input.info.width, input.info.height], clip)
            XCTAssertEqual(output.info.comment, "vision predict: annotated copy", clip)
            var inTimes: [Double] = [], outTimes: [Double] = []
            while let frame = try input.nextFrame(convert: false) { inTimes.append(frame.time) }
            while let frame = try output.nextFrame(convert: false) { outTimes.append(frame.time) }
            XCTAssertEqual(outTimes.count, inTimes.count, "\(clip): frame count")
            for (o, i) in zip(outTimes, inTimes) { XCTAssertEqual(o, i, accuracy: 1e-3, "\(clip): timestamps") }
            if clip != "vfr.mp4" {
                XCTAssertEqual(output.info.frameRate.value, input.info.frameRate.value, accuracy: 1e-9, "\(clip): frame rate")
            }
            print("\(clip) -> annotated/clips/\(name): \(outTimes.count) frames, \(output.info.width)x\(output.info.height), "
                + "\(output.info.frameRate) fps (input \(input.info.frameRate))")
        }
        // No temporary file is left beside the copies.
        let left = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("annotated/clips").path)
        XCTAssertEqual(left.sorted(), (Array(written.values) + ["pets.png"]).sorted())

        // A second run replaces vision's own copies without --overwrite ...
        let again = try predict(["clips/h264.mp4", "-d", "annotated/clips", "--quiet"], in: work)
        XCTAssertEqual(again.status, 0, again.stderr)
        // ... but not a file vision did not write, nor the input itself.
        let userFile = work.appendingPathComponent("mine/h264.mp4")
        try FileManager.default.createDirectory(at: userFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("vfr.mp4"), to: userFile)
        let refused = try predict(["clips/h264.mp4", "-d", "mine", "--quiet"], in: work)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("not an annotated copy written by vision"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: userFile), try Data(contentsOf: Self.fixtures.appendingPathComponent("vfr.mp4")))
        let ontoInput = try predict(["clips/h264.mp4", "-d", "clips", "--quiet"], in: work)
        XCTAssertNotEqual(ontoInput.status, 0)
        XCTAssertTrue(ontoInput.stderr.contains("would overwrite the input"), ontoInput.stderr)
        XCTAssertEqual(try Data(contentsOf: work.appendingPathComponent("clips/h264.mp4")),
                       try Data(contentsOf: Self.fixtures.appendingPathComponent("h264.mp4")))
        let overwritten = try predict(["clips/h264.mp4", "-d", "mine", "--overwrite", "--quiet"], in: work)
        XCTAssertEqual(overwritten.status, 0, overwritten.stderr)
        XCTAssertEqual(try VideoReader(path: userFile.path).info.comment, "vision predict: annotated copy")
    }

    func testResumeSkipsTheFramesAlreadyWritten() throws {
        let work = try makeClips(["h264.mp4", "vp9.webm"])
        let full = try predict(["clips/h264.mp4", "clips/vp9.webm", "-o", "all.jsonl", "--quiet"], in: work)
        XCTAssertEqual(full.status, 0, full.stderr)
        let allText = try String(contentsOf: work.appendingPathComponent("all.jsonl"), encoding: .utf8)
        let allLines = allText.split(separator: "\n").map(String.init)
        XCTAssertEqual(allLines.count, 24 + 10)

        // A run killed after 9 frames of the first clip, in the middle of the 10th line.
        let kept = allLines.prefix(9).joined(separator: "\n") + "\n" + allLines[9].prefix(40)
        try Data(kept.utf8).write(to: work.appendingPathComponent("part.jsonl"))
        let resumed = try predict(["clips/h264.mp4", "clips/vp9.webm", "-o", "part.jsonl", "--resume", "-d", "annotated", "--quiet"],
                                  in: work)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("2 videos (25 frames) processed"), resumed.stderr)
        let text = try String(contentsOf: work.appendingPathComponent("part.jsonl"), encoding: .utf8)
        let keys = try CLI.records(text).map { "\($0.file)#\($0.object["frame"] as? Int ?? -1)" }
        let allKeys = try CLI.records(allText).map { "\($0.file)#\($0.object["frame"] as? Int ?? -1)" }
        XCTAssertEqual(keys, allKeys, "each frame once, in order")
        // The annotated video is whole: the 9 frames done before are drawn from their lines.
        let annotated = try VideoReader(path: work.appendingPathComponent("annotated/h264.mp4").path)
        var count = 0
        while try annotated.nextFrame(convert: false) != nil { count += 1 }
        XCTAssertEqual(count, 24)

        // Resuming a finished run processes nothing and succeeds.
        let done = try predict(["clips/h264.mp4", "clips/vp9.webm", "-o", "part.jsonl", "--resume", "--quiet"], in: work)
        XCTAssertEqual(done.status, 0, done.stderr)
        XCTAssertEqual(try String(contentsOf: work.appendingPathComponent("part.jsonl"), encoding: .utf8), text)
    }
}
