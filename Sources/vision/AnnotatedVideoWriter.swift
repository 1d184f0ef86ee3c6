// The annotated copy of a video (-d): each frame drawn and encoded on a thread of
// its own, so encoding overlaps the model. Frames go into a hidden temporary file
// beside the destination, which replaces the destination only once complete: a
// destination is never a half-written video, and a killed run leaves nothing
// there that a later run would mistake for its own finished copy.

import Foundation
import VisionDetection
import VisionImaging
import VisionVideo

final class AnnotatedVideoWriter: @unchecked Sendable {
    let destination: URL
    private let temporary: URL
    private let writer: VideoWriter
    private let jobs = BoundedQueue<Job>(capacity: 4)
    private let encoderDone = DispatchSemaphore(value: 0)
    /// Set by the encoder thread only; read after `encoderDone`.
    private var failure: Error?
    private var closed = false

    private struct Job {
        let image: RGBImage
        let objects: [DetectedObject]
        let pts: Int64
    }

    /// Starts an MP4 of `info`'s size, frame rate and time base (pts pass through,
    /// so a variable frame rate stays as it was).
    init(destination: URL, info: VideoInfo) throws {
        self.destination = destination
        temporary = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).vision-partial-\(getpid())")
        // A container without a frame rate (rare) gets 25 fps, FFmpeg's own default.
        let rate = info.frameRate.numerator > 0 && info.frameRate.denominator > 0 ? info.frameRate : VideoRational(25, 1)
        writer = try VideoWriter(path: temporary.path, width: info.width, height: info.height, frameRate: rate,
                                 timeBase: info.timeBase, comment: OutputGuard.annotatedCopyMarker)
        let thread = Thread { [self] in
            while let job = jobs.take() {
                guard failure == nil else { continue }
                do {
                    try writer.write(AnnotatedMediaWriter.annotated(job.image, objects: job.objects), pts: job.pts)
                } catch {
                    failure = error
                }
            }
            encoderDone.signal()
        }
        thread.name = "vision.encode"
        thread.start()
    }

    /// Queues `image` with `objects` drawn, shown at `pts` (the input's time base).
    func add(_ image: RGBImage, objects: [DetectedObject], pts: Int64) {
        jobs.put(Job(image: image, objects: objects, pts: pts))
    }

    /// Waits for the encoder, completes the file and moves it to `destination`.
    func finish() throws {
        stopEncoder()
        do {
            if let failure { throw failure }
            try writer.finish()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        // rename(2) replaces an earlier copy in one step (OutputGuard allowed it).
        guard rename(temporary.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw PredictError.output(path: destination.path, reason: "cannot move the finished video into place (\(reason))")
        }
    }

    /// Stops without a result and removes the temporary file.
    func abandon() {
        stopEncoder()
        try? FileManager.default.removeItem(at: temporary)
    }

    private func stopEncoder() {
        guard !closed else { return }
        closed = true
        jobs.close()
        encoderDone.wait()
    }
}
