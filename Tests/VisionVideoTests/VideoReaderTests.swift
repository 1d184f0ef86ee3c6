// The video decoder against ffprobe: Tests/Fixtures/videos/make_videos.sh made the
// clips from the sample photos and recorded ffprobe's view of each (<clip>.ffprobe.json);
// the decoder must find the same frames, in the same order, at the same timestamps.

import Foundation
import VisionImaging
import VisionVideo
import XCTest

/// What ffprobe said about a clip's video stream and frames.
struct FFprobeRecord {
    /// The coded size (before the display rotation).
    let width: Int
    let height: Int
    /// ffprobe's "rotation" of the display matrix (degrees counterclockwise), 0 when none.
    let rotation: Int
    let timeBase: String
    let avgFrameRate: String
    let frameCount: Int?
    /// Per frame in decode output order: best_effort_timestamp and its time in seconds.
    let frames: [(pts: Int64, time: Double)]

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/videos")

    init(clip: String) throws {
        let url = Self.folder.appendingPathComponent(clip + ".ffprobe.json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let stream = try XCTUnwrap((json["streams"] as? [[String: Any]])?.first, "no stream in \(url.path)")
        width = try XCTUnwrap(stream["width"] as? Int)
        height = try XCTUnwrap(stream["height"] as? Int)
        rotation = ((stream["side_data_list"] as? [[String: Any]])?.compactMap { $0["rotation"] as? Int }.first) ?? 0
        timeBase = try XCTUnwrap(stream["time_base"] as? String)
        avgFrameRate = try XCTUnwrap(stream["avg_frame_rate"] as? String)
        frameCount = (stream["nb_frames"] as? String).flatMap { Int($0) }
        frames = try (json["frames"] as? [[String: Any]] ?? []).map { frame in
            let pts = try XCTUnwrap(frame["best_effort_timestamp"] as? Int, "frame without timestamp in \(clip)")
            let time = try XCTUnwrap((frame["best_effort_timestamp_time"] as? String).flatMap(Double.init))
            return (Int64(pts), time)
        }
    }
}

final class VideoReaderTests: XCTestCase {
    static let clips = ["h264.mp4", "vp9.webm", "vfr.mp4", "mpeg4.avi", "rotated.mp4"]

    func path(_ clip: String) -> String { FFprobeRecord.folder.appendingPathComponent(clip).path }

    /// Every frame of `reader` until the end or an error (returned, not thrown).
    func readAll(_ reader: VideoReader, convert: Bool = true) -> (frames: [VideoFrame], error: VideoError?) {
        var frames: [VideoFrame] = []
        do {
            while let frame = try reader.nextFrame(convert: convert) { frames.append(frame) }
        } catch {
            return (frames, error as? VideoError)
        }
        return (frames, nil)
    }

    func testFramesAndTimestampsEqualFFprobe() throws {
        for clip in Self.clips {
            let expected = try FFprobeRecord(clip: clip)
            let reader = try VideoReader(path: path(clip))
            // Frames are turned clockwise by what ffprobe's counterclockwise rotation undoes.
            XCTAssertEqual(reader.info.rotation, (360 - expected.rotation) % 360, clip)
            let turned = expected.rotation % 180 != 0
            let shown = turned ? [expected.height, expected.width] : [expected.width, expected.height]
            XCTAssertEqual([reader.info.width, reader.info.height], shown, clip)
            XCTAssertEqual(reader.info.timeBase.description, expected.timeBase, clip)
            XCTAssertEqual(reader.info.frameRate.description, expected.avgFrameRate, clip)
            XCTAssertEqual(reader.info.frameCount, expected.frameCount, clip)
            let (frames, error) = readAll(reader)
            XCTAssertNil(error, "\(clip): \(String(describing: error))")
            XCTAssertEqual(frames.count, expected.frames.count, clip)
            XCTAssertEqual(frames.map(\.index), Array(0..<frames.count), clip)
            XCTAssertEqual(frames.map(\.pts), expected.frames.map(\.pts), clip)
            for (frame, want) in zip(frames, expected.frames) {
                XCTAssertEqual(frame.time, want.time, accuracy: 5e-7, "\(clip) frame \(frame.index)")
                let image = try XCTUnwrap(frame.image)
                XCTAssertEqual([image.width, image.height], shown, clip)
            }
            // A pan over a photo: frames differ from each other and are not blank.
            let first = try XCTUnwrap(frames.first?.image), last = try XCTUnwrap(frames.last?.image)
            XCTAssertNotEqual(first.pixels, last.pixels, clip)
            XCTAssertGreaterThan(Set(first.pixels).count, 50, "\(clip): first frame looks blank")
            print("\(clip): \(frames.count) frames, \(reader.info.codec), \(reader.info.frameRate) fps; times "
                + frames.prefix(4).map { String(format: "%.6f", $0.time) }.joined(separator: " ") + " ...")
        }
    }

    /// rotated.mp4 is h264.mp4's stream with a display matrix (ffprobe: rotation 90, as
    /// a phone writes a portrait video): each frame must be h264.mp4's turned the way
    /// ffmpeg shows it (checked by hand against `ffmpeg -i rotated.mp4 frame.png`).
    func testRotatedClipFramesAreTurned() throws {
        let plain = try VideoReader(path: path("h264.mp4")), rotated = try VideoReader(path: path("rotated.mp4"))
        XCTAssertEqual(rotated.info.rotation, 270)
        var compared = 0
        while let a = try plain.nextFrame(), let b = try rotated.nextFrame() {
            let src = try XCTUnwrap(a.image), dst = try XCTUnwrap(b.image)
            XCTAssertEqual([dst.width, dst.height], [src.height, src.width])
            XCTAssertEqual(a.pts, b.pts)
            var mismatches = 0
            for y in 0..<dst.height {
                for x in 0..<dst.width where dst[x, y] != src[src.width - 1 - y, x] { mismatches += 1 }
            }
            XCTAssertEqual(mismatches, 0, "frame \(a.index) is not the source turned 270 degrees clockwise")
            compared += 1
        }
        XCTAssertEqual(compared, 24)
    }

    func testFramesWithoutConversionKeepTheirTimestamps() throws {
        let expected = try FFprobeRecord(clip: "vfr.mp4")
        let (frames, error) = readAll(try VideoReader(path: path("vfr.mp4")), convert: false)
        XCTAssertNil(error)
        XCTAssertEqual(frames.map(\.pts), expected.frames.map(\.pts))
        XCTAssertTrue(frames.allSatisfy { $0.image == nil })
    }

    func testTruncatedClipGivesItsDecodableFramesThenOneError() throws {
        let expected = try FFprobeRecord(clip: "truncated.mp4")
        let whole = try FFprobeRecord(clip: "h264.mp4")
        XCTAssertLessThan(expected.frames.count, whole.frames.count, "the fixture must lose frames")
        XCTAssertGreaterThan(expected.frames.count, 0, "the fixture must keep frames")
        let reader = try VideoReader(path: path("truncated.mp4"), name: "cut.mp4")
        let (frames, error) = readAll(reader)
        XCTAssertEqual(frames.map(\.pts), expected.frames.map(\.pts))
        let thrown = try XCTUnwrap(error, "a truncated file must end with an error")
        XCTAssertEqual(thrown.file, "cut.mp4")
        XCTAssertTrue(thrown.description.hasPrefix("cut.mp4: "), thrown.description)
        XCTAssertTrue(thrown.reason.hasPrefix("truncated"), thrown.reason)
        XCTAssertTrue(thrown.reason.hasSuffix("; \(frames.count) frames decoded"), thrown.reason)
        print("truncated.mp4: \(frames.count) frames, then: \(thrown)")
        XCTAssertNil(try reader.nextFrame(), "after the error the reader is at its end")
    }

    /// Matroska/WebM and AVI demuxers end a cut-off file quietly; the reader must
    /// still say the file was cut, after a prefix of the whole clip's frames.
    func testCutWebMAndAVIEndWithAnError() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vision-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        for clip in ["vp9.webm", "mpeg4.avi"] {
            let whole = try FFprobeRecord(clip: clip)
            let data = try Data(contentsOf: URL(fileURLWithPath: path(clip)))
            let cut = scratch.appendingPathComponent("cut-" + clip)
            try data.prefix(data.count * 6 / 10).write(to: cut)
            let (frames, error) = readAll(try VideoReader(path: cut.path))
            XCTAssertGreaterThan(frames.count, 0, clip)
            XCTAssertLessThan(frames.count, whole.frames.count, clip)
            XCTAssertEqual(frames.map(\.pts), Array(whole.frames.map(\.pts).prefix(frames.count)), clip)
            let thrown = try XCTUnwrap(error, "\(clip) cut to 60% must end with an error")
            XCTAssertTrue(thrown.reason.hasPrefix("truncated"), thrown.reason)
            print("cut \(clip): \(frames.count) of \(whole.frames.count) frames, then: \(thrown.reason)")
        }
    }

    func testNonVideoIsAClearError() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vision-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let text = scratch.appendingPathComponent("notes.mp4")
        try Data("not a video at all\n".utf8).write(to: text)
        XCTAssertThrowsError(try VideoReader(path: text.path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix(text.path + ": "), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
        XCTAssertThrowsError(try VideoReader(path: scratch.appendingPathComponent("missing.mp4").path))
    }
}
