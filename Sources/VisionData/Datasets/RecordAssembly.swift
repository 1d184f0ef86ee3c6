// Turns what a reader parsed (class names, raw boxes) into validated records:
// every format shares the same checks and the same problem reports.

import Foundation

/// One object as parsed, before validation.
struct RawObject {
    var className: String
    var box: BoundingBox
    /// COCO's `area`; nil means w * h.
    var area: Double? = nil
    var difficult = false
    var isCrowd = false
    /// Where it came from inside the annotation file, e.g. "line 4" or "object 2".
    var location: String
}

/// One image as parsed, before validation.
struct RawImage {
    var imageURL: URL
    /// 0 when unknown (then the bounds check is skipped).
    var width: Int
    var height: Int
    /// The file the objects were read from, named in problems.
    var annotationFile: String
    var objects: [RawObject] = []
    var imageId: Int = 0
}

struct RecordAssembly {
    /// Boxes may pass the image border by this many pixels: annotation tools and
    /// the 1-based VOC convention put edges at `width` or a fraction beyond.
    static let boundsSlack = 1.0

    let classes: [String]
    let requireImages: Bool
    private let labelByName: [String: Int]

    init(classes: [String], requireImages: Bool) {
        self.classes = classes
        self.requireImages = requireImages
        var labels: [String: Int] = [:]
        for (i, name) in classes.enumerated() where labels[name] == nil { labels[name] = i + 1 }
        self.labelByName = labels
    }

    /// The record for `raw`, or nil (with a problem) when its image is missing.
    /// Invalid objects are left out, each with a problem.
    func record(_ raw: RawImage, problems: inout [DatasetProblem]) -> DetectionRecord? {
        if requireImages && !FileManager.default.fileExists(atPath: raw.imageURL.path) {
            problems.append(DatasetProblem(file: raw.annotationFile, kind: .missingImage,
                                           reason: "image \(raw.imageURL.path) does not exist"))
            return nil
        }
        var record = DetectionRecord(imageURL: raw.imageURL, width: raw.width, height: raw.height, imageId: raw.imageId)
        for object in raw.objects {
            guard let label = labelByName[object.className] else {
                problems.append(DatasetProblem(file: raw.annotationFile, kind: .unknownClass,
                                               reason: "\(object.location): class '\(object.className)' is not among \(classes)"))
                record.droppedObjects += 1
                continue
            }
            if let problem = Self.check(object.box, width: raw.width, height: raw.height) {
                problems.append(DatasetProblem(file: raw.annotationFile, kind: problem.kind,
                                               reason: "\(object.location) (\(object.className)): \(problem.reason)"))
                record.droppedObjects += 1
                continue
            }
            record.append(box: object.box, label: label, area: object.area, difficult: object.difficult, isCrowd: object.isCrowd)
        }
        return record
    }

    /// Why `box` cannot be used in a width x height image, or nil when it can.
    static func check(_ box: BoundingBox, width: Int, height: Int) -> (kind: DatasetProblem.Kind, reason: String)? {
        let text = "[\(format(box.x1)), \(format(box.y1)), \(format(box.x2)), \(format(box.y2))]"
        guard box.x1.isFinite, box.y1.isFinite, box.x2.isFinite, box.y2.isFinite else {
            return (.unparsable, "box \(text) has a non-finite coordinate")
        }
        if box.x2 <= box.x1 || box.y2 <= box.y1 {
            return (.zeroAreaBox, "box \(text) has zero or negative area")
        }
        if width > 0 && height > 0 {
            let slack = boundsSlack
            if box.x1 < -slack || box.y1 < -slack || box.x2 > Double(width) + slack || box.y2 > Double(height) + slack {
                return (.boxOutOfBounds, "box \(text) lies outside the \(width)x\(height) image")
            }
        }
        return nil
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}

/// Finds the image for `name` in `directories`, trying the usual extensions
/// when `name` has none. Returns the first existing path, else the first guess.
func resolveImage(named name: String, in directories: [URL]) -> URL {
    let fm = FileManager.default
    let hasExtension = !(name as NSString).pathExtension.isEmpty
    let names = hasExtension ? [name] : [name + ".jpg", name + ".jpeg", name + ".png", name + ".JPG", name + ".PNG"]
    for dir in directories {
        for candidate in names {
            let url = dir.appendingPathComponent(candidate)
            if fm.fileExists(atPath: url.path) { return url }
        }
    }
    return (directories.first ?? URL(fileURLWithPath: ".")).appendingPathComponent(names[0])
}

func isDirectory(_ url: URL) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
}

func listDirectory(_ url: URL) -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
    return names.filter { !$0.hasPrefix(".") }.sorted().map { url.appendingPathComponent($0) }
}

let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]
