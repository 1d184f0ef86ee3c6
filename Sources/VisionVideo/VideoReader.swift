// Reads a video's frames as RGB images through FFmpeg (the CVideoCodecs shim).

import CVideoCodecs
import VisionImaging

/// A video could not be opened, decoded or written. `description` reads
/// "<file>: <reason>", e.g. "clip.mp4: truncated or corrupt: ...; 12 frames decoded".
public struct VideoError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

/// A rational number as FFmpeg keeps rates and time bases.
public struct VideoRational: Equatable, Sendable, CustomStringConvertible {
    public let numerator: Int
    public let denominator: Int

    public init(_ numerator: Int, _ denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    public var value: Double { denominator == 0 ? 0 : Double(numerator) / Double(denominator) }
    public var description: String { "\(numerator)/\(denominator)" }
}

/// What the container says about its first video stream.
public struct VideoInfo: Equatable, Sendable {
    /// The size frames are delivered in: as shown, turned by `rotation`.
    public let width: Int
    public let height: Int
    /// The clockwise turn (0, 90, 180, 270) the container's display matrix asks
    /// for, applied to every frame (as ffmpeg and players do).
    public let rotation: Int
    /// The average frame rate (0/1 when the file does not say).
    public let frameRate: VideoRational
    /// The unit of `VideoFrame.pts`.
    public let timeBase: VideoRational
    /// The container's frame count; nil when it does not say (Matroska, WebM).
    public let frameCount: Int?
    public let codec: String
    /// The container's "comment" tag ("" when none).
    public let comment: String
}

/// One decoded frame.
public struct VideoFrame: Sendable {
    /// 0-based position in the decoder's output order.
    public let index: Int
    /// Best-effort presentation timestamp in `VideoInfo.timeBase` units.
    public let pts: Int64
    /// `pts` in seconds.
    public let time: Double
    /// nil when the frame was read with `convert: false`.
    public let image: RGBImage?
}

/// Frames of one file, in order. Not thread-safe: one reader per thread.
public final class VideoReader {
    public let file: String
    public let info: VideoInfo
    private var handle: OpaquePointer?
    private var nextIndex = 0

    /// Opens `path`; errors name it as `name` (default: the path).
    public init(path: String, name: String? = nil) throws {
        file = name ?? path
        var raw: OpaquePointer?
        var cInfo = vision_video_info()
        var message = [CChar](repeating: 0, count: Int(VISION_VIDEO_MESSAGE_CAPACITY))
        let status = vision_video_open(path, &raw, &cInfo, &message)
        guard status == Int32(VISION_VIDEO_OK), let raw else {
            throw VideoError(file: name ?? path, reason: String(cString: message))
        }
        handle = raw
        info = VideoInfo(width: Int(cInfo.width), height: Int(cInfo.height), rotation: Int(cInfo.rotation),
                         frameRate: VideoRational(Int(cInfo.frame_rate_num), Int(cInfo.frame_rate_den)),
                         timeBase: VideoRational(Int(cInfo.time_base_num), Int(cInfo.time_base_den)),
                         frameCount: cInfo.frame_count > 0 ? Int(cInfo.frame_count) : nil,
                         codec: withUnsafeBytes(of: cInfo.codec_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) },
                         comment: withUnsafeBytes(of: cInfo.comment) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) })
    }

    deinit { vision_video_close(handle) }

    /// The next frame, or nil at the clean end of the stream. Throws once when the
    /// file turns out truncated or corrupt (after the frames that decoded); nil after.
    /// With `convert: false` the frame is decoded but not turned into RGB.
    public func nextFrame(convert: Bool = true) throws -> VideoFrame? {
        var pts: Int64 = 0
        var message = [CChar](repeating: 0, count: Int(VISION_VIDEO_MESSAGE_CAPACITY))
        var pixels: [UInt8] = []
        let status: Int32
        if convert {
            pixels = [UInt8](repeating: 0, count: info.width * info.height * 3)
            status = pixels.withUnsafeMutableBufferPointer { vision_video_next_frame(handle, $0.baseAddress, &pts, &message) }
        } else {
            status = vision_video_next_frame(handle, nil, &pts, &message)
        }
        switch status {
        case Int32(VISION_VIDEO_OK):
            defer { nextIndex += 1 }
            let seconds = Double(pts) * Double(info.timeBase.numerator) / Double(info.timeBase.denominator)
            return VideoFrame(index: nextIndex, pts: pts, time: seconds,
                              image: convert ? RGBImage(width: info.width, height: info.height, pixels: pixels) : nil)
        case Int32(VISION_VIDEO_END):
            return nil
        default:
            throw VideoError(file: file, reason: String(cString: message))
        }
    }
}
