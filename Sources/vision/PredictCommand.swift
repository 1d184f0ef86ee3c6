// `vision predict PATH...`: detections for images, videos and folders as JSON
// Lines, one line per image or video frame, written as soon as each is done. Bad
// files are reported and recorded as {"file", "error"} lines; the batch goes on.

import ArgumentParser
import Foundation
import VisionCore
import VisionDetection

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Detect objects in images, videos and folders; write JSON Lines.",
        discussion: """
            Output: one JSON object per line and image, {"file": ..., "objects": [{"bbox": [x1, y1, x2, y2], \
            "label": ..., "label_id": ..., "prob": ...}]}, boxes in original-image pixels, objects by prob \
            descending; {"file": ..., "error": ...} for an image that could not be read.

            Videos (.mp4, .mov, .mkv, .avi, .webm, .m4v; decoded by FFmpeg): one line per processed frame, \
            {"file": ..., "frame": N, "time": SECONDS, "objects": [...]}, frame counted from 0 in decode order, \
            time from the frame's timestamp; a video that cannot be read, or ends early (truncated, corrupt), \
            gets an error line after its decodable frames. With -d, an H.264 MP4 of the same size and frame rate.

            Folders are walked recursively in sorted order: .jpg, .jpeg and .png files and the video types above \
            are taken (any case), other files are skipped and counted in the summary. Exit status 0 when at least \
            one image or video frame was processed.

            Examples:
              vision predict Samples/video/blood_smear.mp4 -d annotated-video/
              vision predict Samples/video/ --every 4 -o video.jsonl
            """)

    @Argument(help: ArgumentHelp("Images, videos, or folders of them.", valueName: "path"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("A .pth or .safetensors file; a published model's name or alias (fast, accurate), downloaded on first use; or bccd, the shipped blood-cell model (the default).", valueName: "path|name"))
    var checkpoint: String?

    @Option(help: ArgumentHelp("Architecture, where the checkpoint's keys allow two (the 320 MobileNet variant): \(ModelConfig.names.joined(separator: ", ")).", valueName: "name"))
    var model: String?

    @Option(name: .customLong("min-prob"), help: "Keep objects with at least this probability.")
    var minProb: Float = 0.5

    @Option(name: .customLong("max-detections"), help: "At most this many objects per image.")
    var maxDetections: Int = 100

    @Option(name: [.customShort("k"), .customLong("only-class")],
            help: ArgumentHelp("Keep only this class (name or id; repeatable).", valueName: "class"))
    var onlyClass: [String] = []

    @Option(name: [.customShort("K"), .customLong("ignore-class")],
            help: ArgumentHelp("Drop this class (name or id; repeatable).", valueName: "class"))
    var ignoreClass: [String] = []

    @Option(name: [.short, .long], help: ArgumentHelp("Write the JSON Lines here (default: standard output).", valueName: "file"))
    var output: String?

    @Option(name: [.customShort("d"), .customLong("save-media-to")],
            help: ArgumentHelp("Write a copy of each image (and video, as MP4) with its boxes drawn into this folder, keeping the folder structure.", valueName: "dir"))
    var saveMediaTo: String?

    @Option(help: ArgumentHelp("Videos: process every Nth frame (0, N, 2N, ...); with -d every frame is still written, carrying the latest boxes.", valueName: "N"))
    var every: Int = 1

    @Option(help: "Compute threads (default: all cores); with 1, images are decoded only between detections.")
    var threads: Int?

    @OptionGroup var compute: BackendOption

    @Flag(help: "Skip images and video frames already in the --output file and append the rest.")
    var resume = false

    @Flag(help: "Replace an existing --output file or annotated copy that vision did not write (an input image is never replaced).")
    var overwrite = false

    @Option(help: ArgumentHelp("Process only shard I of N (the images at positions I-1, I-1+N, ... of the sorted list).", valueName: "I/N"))
    var shard: ShardSpec?

    @Flag(help: "No progress on standard error.")
    var quiet = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("missing PATH: give one or more images or folders") }
        if let missing = InputWalker.missing(paths).first { throw ValidationError("no such file or folder: \(missing)") }
        guard minProb >= 0, minProb <= 1 else { throw ValidationError("--min-prob must be within 0...1, got \(minProb)") }
        guard maxDetections >= 1 else { throw ValidationError("--max-detections must be at least 1, got \(maxDetections)") }
        if !onlyClass.isEmpty && !ignoreClass.isEmpty {
            throw ValidationError("--only-class and --ignore-class cannot be used together")
        }
        guard every >= 1 else { throw ValidationError("--every must be at least 1, got \(every)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if resume && output == nil { throw ValidationError("--resume needs --output FILE (the file to resume)") }
        if let model, !ModelConfig.names.contains(model) {
            throw ValidationError("unknown --model '\(model)'; valid: \(ModelConfig.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let threads = kernelThreads(self.threads)
        let collected = InputWalker.collect(paths)
        var inputs = collected.images
        if let shard { inputs = inputs.enumerated().filter { shard.contains(position: $0.offset) }.map(\.element) }
        // Lanes (whole images in parallel) are a CPU matter: a GPU backend takes one image at a time.
        let plan = ParallelismPlan(threads: threads, inputs: compute.backend == .cpu ? inputs : [])
        // The backend first: a missing Vulkan is reported before any download.
        let backend = try compute.make(threads: plan.kernelThreads)
        let resolved = try CheckpointResolver.resolve(checkpoint, quiet: quiet)
        let detector = try Detector(checkpoint: resolved.url, model: model ?? resolved.impliedModel, backend: backend)
        if resolved.isShipped && checkpoint == nil && !quiet { Standard.error(CheckpointResolver.shippedModelNotice(labels: detector.labels)) }
        let keepClass = try ClassFilter.make(only: onlyClass, ignore: ignoreClass, labels: detector.labels)

        let selected = inputs.count

        var resumeState = ResumeState()
        if resume, let output {
            resumeState = try ResumeState.read(path: output, keepObjects: saveMediaTo != nil)
            inputs.removeAll { resumeState.done.contains($0.file) }
        }
        // Nothing is written before every output path has been checked against the inputs.
        let inputIdentities = OutputGuard.identities(of: collected.images)
        if let output { try OutputGuard.checkOutput(output, inputs: inputIdentities, overwrite: overwrite, resume: resume) }
        let media = saveMediaTo.map { AnnotatedMediaWriter(directory: $0, inputs: inputs) }
        if let media, let saveMediaTo {
            try OutputGuard.checkMedia(media.plan, folder: saveMediaTo, inputs: inputIdentities, overwrite: overwrite)
        }
        let writer = try output.map { try JSONLinesWriter(path: $0, keepBytes: resumeState.keepBytes) } ?? JSONLinesWriter()

        let hasVideos = collected.images.contains(where: \.isVideo)
        let progress = ProgressReporter(total: inputs.count, quiet: quiet, unit: hasVideos ? "files" : "images")
        if resumeState.droppedPartialLine { progress.message("resume: an incomplete last line of \(output ?? "") will be rewritten") }
        let frames = FrameSelection(every: every, done: resumeState.doneFrames, keepAllFrames: media != nil)
        let queue = PredictionPipeline.start(inputs: inputs, detector: detector, keepImages: media != nil, frames: frames,
                                             depth: plan.lanes + 1, prefetch: threads.count > 1)
        let videos = VideoPrediction(writer: writer, media: media, progress: progress, recorded: resumeState.recordedObjects)
        defer { queue.close(); videos.abandon() }

        var processed = 0, failed = 0
        func record(_ input: InputImage, _ result: Result<DetectedObjects, Error>) throws {
            switch result {
            case let .success(detected):
                try writer.write(JSONLines.line(file: input.file, objects: detected.objects))
                if let media, let image = detected.image {
                    do {
                        try media.write(image, objects: detected.objects, for: input)
                    } catch {
                        progress.message("warning: annotated copy of \(input.file) not written: \(error)")
                    }
                }
                processed += 1
            case let .failure(error):
                progress.message("error: \(error)")
                try writer.write(JSONLines.line(file: input.file, error: "\(error)"))
                failed += 1
            }
            progress.update(done: processed + failed + videos.ended, frames: videos.frames)
        }
        if plan.lanes > 1 {
            let detected = DetectionLanes.start(source: queue, lanes: plan.lanes) { [minProb, maxDetections] in
                detector.detect(prepared: $0, minProb: minProb, maxDetections: maxDetections, keepClass: keepClass ?? { _ in true })
            }
            defer { detected.close() }
            while let item = detected.take() { try record(item.input, item.result) }
        }
        while let next = queue.take() {
            guard case let .image(item) = next else {
                if case let .video(input, event) = next {
                    try videos.handle(input, event) {
                        detector.detect(prepared: $0, minProb: minProb, maxDetections: maxDetections, keepClass: keepClass ?? { _ in true })
                    }
                    if case .opened = event { continue }
                    progress.update(done: processed + failed + videos.ended, frames: videos.frames)
                }
                continue
            }
            try record(item.input, item.result.map {
                DetectedObjects(objects: detector.detect(prepared: $0.prepared, minProb: minProb, maxDetections: maxDetections,
                                                         keepClass: keepClass ?? { _ in true }),
                                image: $0.image)
            })
        }
        progress.finish()

        var done: [String] = []
        if processed > 0 || !hasVideos { done.append("\(processed) image\(processed == 1 ? "" : "s")") }
        if hasVideos { done.append("\(videos.videos) video\(videos.videos == 1 ? "" : "s") (\(videos.frames) frame\(videos.frames == 1 ? "" : "s"))") }
        var summary = "vision predict: " + done.joined(separator: " and ") + " processed, \(failed + videos.failed) failed"
        if collected.skippedFiles > 0 { summary += ", \(collected.skippedFiles) non-image file\(collected.skippedFiles == 1 ? "" : "s") skipped" }
        if let shard { summary += ", shard \(shard.index)/\(shard.count): \(selected) of \(collected.images.count) images" }
        if resume { summary += ", \(selected - inputs.count) already done" }
        summary += String(format: " in %.1f s", progress.elapsed)
        if processed + failed > 0 { summary += String(format: " (%.1f img/s)", Double(processed + failed) / max(progress.elapsed, 1e-9)) }
        if videos.frames > 0 { summary += String(format: " (%.1f frames/s)", Double(videos.frames) / max(progress.elapsed, 1e-9)) }
        Standard.error(summary)

        if processed == 0 && videos.frames == 0 {
            // Everything was done by an earlier run (a finished video leaves no line to skip it by, only its frames).
            if resume && failed + videos.failed == 0 && selected > 0 { return }
            throw PredictError.nothingProcessed(reason: collected.images.isEmpty ? "no image or video files found"
                : (selected == 0 ? "the shard holds no image" : (hasVideos ? "every image and video failed" : "every image failed")))
        }
    }
}
