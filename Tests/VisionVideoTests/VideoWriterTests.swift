// The H.264/MP4 writer, read back through the decoder: same frame count, size,
// frame rate and timestamps, the comment tag, and pixels close to what was written.

import Foundation
import VisionImaging
import VisionVideo
import XCTest

final class VideoWriterTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vision-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// A smooth gradient that moves with `t` (H.264 keeps such content close).
    func gradient(width: Int, height: Int, t: Int) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[x, y] = RGBColor(r: UInt8((x * 255 / max(width - 1, 1) + t * 8) % 256),
                                       g: UInt8(y * 255 / max(height - 1, 1)), b: 128)
            }
        }
        return image
    }

    func roundTrip(width: Int, height: Int, timeBase: VideoRational, pts: [Int64]) throws {
        let url = scratch.appendingPathComponent("out-\(width)x\(height).tmp")
        let writer = try VideoWriter(path: url.path, width: width, height: height, frameRate: VideoRational(10, 1),
                                     timeBase: timeBase, comment: "written by a test")
        let written = pts.indices.map { gradient(width: width, height: height, t: $0) }
        for (image, p) in zip(written, pts) { try writer.write(image, pts: p) }
        try writer.finish()

        let reader = try VideoReader(path: url.path)
        XCTAssertEqual(reader.info.codec, "h264")
        XCTAssertEqual([reader.info.width, reader.info.height], [width, height])
        XCTAssertEqual(reader.info.frameCount, pts.count)
        XCTAssertEqual(reader.info.comment, "written by a test")
        var frames: [VideoFrame] = []
        while let frame = try reader.nextFrame() { frames.append(frame) }
        XCTAssertEqual(frames.count, pts.count)
        let wantTimes = pts.map { Double($0) * timeBase.value }
        for (frame, want) in zip(frames, wantTimes) { XCTAssertEqual(frame.time, want, accuracy: 1e-3) }
        for (frame, image) in zip(frames, written) {
            let got = try XCTUnwrap(frame.image)
            let meanError = zip(got.pixels, image.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) } / image.pixels.count
            XCTAssertLessThan(meanError, 8, "frame \(frame.index) differs from what was written")
        }
    }

    func testConstantRateRoundTrip() throws {
        try roundTrip(width: 64, height: 48, timeBase: VideoRational(1, 10), pts: Array(0..<12))
        let reader = try VideoReader(path: scratch.appendingPathComponent("out-64x48.tmp").path)
        XCTAssertEqual(reader.info.frameRate, VideoRational(10, 1))
    }

    func testOddSizeAndVariableTimestamps() throws {
        try roundTrip(width: 65, height: 49, timeBase: VideoRational(1, 1000), pts: [0, 50, 120, 210, 320, 450, 600])
    }

    func testUnwritableDestinationIsAClearError() throws {
        let path = scratch.appendingPathComponent("no/such/folder/out.mp4").path
        XCTAssertThrowsError(try VideoWriter(path: path, width: 64, height: 48, frameRate: VideoRational(10, 1),
                                             timeBase: VideoRational(1, 10), comment: "")) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
        }
    }
}
