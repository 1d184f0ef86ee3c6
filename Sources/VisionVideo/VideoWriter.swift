// Writes RGB frames as H.264 in an MP4 file through FFmpeg (the CVideoCodecs shim).

import CVideoCodecs
import VisionImaging

public final class VideoWriter {
    public let path: String
    public let width: Int
    public let height: Int
    private var handle: OpaquePointer?

    /// Creates `path` (always an MP4, whatever its extension). `timeBase` is the
    /// unit of the pts given to `write`; `comment` is stored in the MP4's comment tag.
    public init(path: String, width: Int, height: Int, frameRate: VideoRational, timeBase: VideoRational,
                comment: String) throws {
        self.path = path
        self.width = width
        self.height = height
        var raw: OpaquePointer?
        var message = [CChar](repeating: 0, count: Int(VISION_VIDEO_MESSAGE_CAPACITY))
        let status = vision_video_writer_open(path, Int32(width), Int32(height), Int32(frameRate.numerator),
                                              Int32(frameRate.denominator), Int32(timeBase.numerator),
                                              Int32(timeBase.denominator), comment, &raw, &message)
        guard status == Int32(VISION_VIDEO_OK), let raw else {
            throw VideoError(file: path, reason: String(cString: message))
        }
        handle = raw
    }

    /// An unfinished writer is aborted: its file is left incomplete for the caller to remove.
    deinit { if let handle { vision_video_writer_abort(handle) } }

    /// Encodes `image` (the writer's size) shown at `pts`.
    public func write(_ image: RGBImage, pts: Int64) throws {
        guard let handle else { throw VideoError(file: path, reason: "write after finish") }
        guard image.width == width, image.height == height else {
            throw VideoError(file: path, reason: "frame of \(image.width)x\(image.height) in a \(width)x\(height) video")
        }
        var message = [CChar](repeating: 0, count: Int(VISION_VIDEO_MESSAGE_CAPACITY))
        let status = image.pixels.withUnsafeBufferPointer { vision_video_writer_write(handle, $0.baseAddress, pts, &message) }
        guard status == Int32(VISION_VIDEO_OK) else { throw VideoError(file: path, reason: String(cString: message)) }
    }

    /// Flushes the encoder and completes the file.
    public func finish() throws {
        guard let handle else { return }
        self.handle = nil
        var message = [CChar](repeating: 0, count: Int(VISION_VIDEO_MESSAGE_CAPACITY))
        guard vision_video_writer_finish(handle, &message) == Int32(VISION_VIDEO_OK) else {
            throw VideoError(file: path, reason: String(cString: message))
        }
    }
}
