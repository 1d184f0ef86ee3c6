// -d/--save-media-to: a copy of each image with its boxes drawn (one colour per
// class, "label prob" captions), at the input's relative path under the folder
// (videos: AnnotatedVideoWriter, to the destination planned here).
// Every destination is planned before the first image, so OutputGuard can refuse
// the run before anything is written.

import Foundation
import VisionDetection
import VisionImaging

final class AnnotatedMediaWriter {
    /// Each input's destination, in input order; two inputs never share one.
    let plan: [(input: InputImage, url: URL)]
    /// Index of the first plan entry not yet written (inputs arrive in order).
    private var cursor = 0

    init(directory: String, inputs: [InputImage]) {
        let folder = URL(fileURLWithPath: directory)
        var used: Set<String> = []
        plan = inputs.map { input in
            (input, Self.destination(for: input.mediaPath, video: input.isVideo, in: folder, used: &used))
        }
    }

    /// Draws `objects` on `image` and writes it; returns the file written.
    @discardableResult
    func write(_ image: RGBImage, objects: [DetectedObject], for input: InputImage) throws -> URL {
        let url = try prepareDestination(for: input)
        try Self.annotated(image, objects: objects).write(to: url, comment: OutputGuard.annotatedCopyMarker)
        return url
    }

    /// `image` with `objects` drawn (boxes, one colour per class, "label prob").
    static func annotated(_ image: RGBImage, objects: [DetectedObject]) -> RGBImage {
        var canvas = image
        let boxes = objects.map {
            DetectionBox(x1: $0.bbox[0], y1: $0.bbox[1], x2: $0.bbox[2], y2: $0.bbox[3],
                         label: $0.label, classId: $0.labelId, score: $0.prob)
        }
        drawDetections(on: &canvas, boxes: boxes)
        return canvas
    }

    /// The planned destination of `input`, its folder created.
    func prepareDestination(for input: InputImage) throws -> URL {
        let url = try takeDestination(for: input)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw PredictError.output(path: url.deletingLastPathComponent().path, reason: "cannot create folder (\(error.localizedDescription))")
        }
        return url
    }

    /// The planned destination of `input` (the first unwritten entry for it). Only
    /// planned destinations are written: they are the ones OutputGuard checked.
    private func takeDestination(for input: InputImage) throws -> URL {
        guard let index = plan[cursor...].firstIndex(where: { $0.input == input }) else {
            throw PredictError.output(path: input.file, reason: "no annotated-copy destination was planned (and checked) for it")
        }
        cursor = index + 1
        return plan[index].url
    }

    /// `relative` under `folder`, made unique with -2, -3, ... before the extension;
    /// an image not .png/.jpg/.jpeg is written as JPEG under its own name plus .jpg,
    /// a video not .mp4 as MP4 under its own name plus .mp4.
    static func destination(for relative: String, video: Bool = false, in folder: URL, used: inout Set<String>) -> URL {
        let ext = (relative as NSString).pathExtension.lowercased()
        let written = video ? (ext == "mp4" ? relative : relative + ".mp4")
            : (ext == "png" || ext == "jpg" || ext == "jpeg" ? relative : relative + ".jpg")
        var candidate = written
        var n = 2
        while used.contains(folder.appendingPathComponent(candidate).path) {
            let ns = written as NSString
            candidate = ns.deletingPathExtension + "-\(n)." + ns.pathExtension
            n += 1
        }
        let url = folder.appendingPathComponent(candidate)
        used.insert(url.path)
        return url
    }
}
