// -d/--save-media-to: a copy of each image with its boxes drawn (one colour per
// class, "label prob" captions), at the input's relative path under the folder.

import Foundation
import VisionDetection
import VisionImaging

final class AnnotatedMediaWriter {
    let directory: URL
    /// Output paths given out so far: two inputs never share one.
    private var used: Set<String> = []

    init(directory: String) {
        self.directory = URL(fileURLWithPath: directory)
    }

    /// Draws `objects` on `image` and writes it; returns the file written.
    @discardableResult
    func write(_ image: RGBImage, objects: [DetectedObject], for input: InputImage) throws -> URL {
        var canvas = image
        let boxes = objects.map {
            DetectionBox(x1: $0.bbox[0], y1: $0.bbox[1], x2: $0.bbox[2], y2: $0.bbox[3],
                         label: $0.label, classId: $0.labelId, score: $0.prob)
        }
        drawDetections(on: &canvas, boxes: boxes)
        let url = uniqueURL(for: input.mediaPath)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw PredictError.output(path: url.deletingLastPathComponent().path, reason: "cannot create folder (\(error.localizedDescription))")
        }
        // Anything not .png is written as JPEG under its own name plus .jpg.
        let ext = url.pathExtension.lowercased()
        try canvas.write(to: ext == "png" || ext == "jpg" || ext == "jpeg" ? url : url.appendingPathExtension("jpg"))
        return url
    }

    private func uniqueURL(for relative: String) -> URL {
        var candidate = relative
        var n = 2
        while used.contains(candidate) {
            let ns = relative as NSString
            let ext = ns.pathExtension
            candidate = ns.deletingPathExtension + "-\(n)" + (ext.isEmpty ? "" : "." + ext)
            n += 1
        }
        used.insert(candidate)
        return directory.appendingPathComponent(candidate)
    }
}
