// predict's consumer side for videos: a JSON line per processed frame, the frames
// passed on to the annotated video (frames between --every frames carry the latest
// boxes; frames done in a resumed run are drawn from their recorded lines), and an
// error line when a video cannot be opened or ends early.

import Foundation
import VisionDetection
import VisionVideo

final class VideoPrediction {
    private let writer: JSONLinesWriter
    private let media: AnnotatedMediaWriter?
    private let progress: ProgressReporter
    /// The resumed --output file's objects per video and frame (with -d only).
    private let recorded: [String: [Int: [DetectedObject]]]

    /// Videos with at least one frame processed in this run.
    private(set) var videos = 0
    /// Frames processed (detected and written) in this run.
    private(set) var frames = 0
    /// Videos that ended with an error line (unreadable, truncated or corrupt).
    private(set) var failed = 0
    /// Videos whose last event has been handled.
    private(set) var ended = 0

    private var annotated: AnnotatedVideoWriter?
    private var latestObjects: [DetectedObject] = []
    private var framesOfCurrent = 0

    init(writer: JSONLinesWriter, media: AnnotatedMediaWriter?, progress: ProgressReporter,
         recorded: [String: [Int: [DetectedObject]]]) {
        self.writer = writer
        self.media = media
        self.progress = progress
        self.recorded = recorded
    }

    func handle(_ input: InputImage, _ event: VideoEvent, detect: (DetectionTransform.Prepared) -> [DetectedObject]) throws {
        switch event {
        case let .opened(info):
            latestObjects = []
            framesOfCurrent = 0
            if let media {
                do {
                    annotated = try AnnotatedVideoWriter(destination: media.prepareDestination(for: input), info: info)
                } catch {
                    progress.message("warning: annotated video of \(input.file) not written: \(error)")
                }
            }
        case let .frame(frame):
            if let prepared = frame.prepared {
                latestObjects = detect(prepared)
                try writer.write(JSONLines.line(file: input.file, frame: frame.index, time: frame.time, objects: latestObjects))
                frames += 1
                framesOfCurrent += 1
            } else if let objects = recorded[input.file]?[frame.index] {
                latestObjects = objects
            }
            if let annotated, let image = frame.image { annotated.add(image, objects: latestObjects, pts: frame.pts) }
        case let .ended(error):
            if let annotated {
                self.annotated = nil
                do {
                    try annotated.finish()
                } catch {
                    progress.message("warning: annotated video of \(input.file) not written: \(error)")
                }
            }
            if let error {
                progress.message("error: \(error)")
                try writer.write(JSONLines.line(file: input.file, error: "\(error)"))
                failed += 1
            }
            if framesOfCurrent > 0 { videos += 1 }
            ended += 1
        }
    }

    /// Stops an annotated video left unfinished (the run is failing) and removes its file.
    func abandon() {
        annotated?.abandon()
        annotated = nil
    }
}
