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
    /// Objects the file names but the reader could not parse (each already reported);
    /// they count in the record's `droppedObjects`.
    var unusableObjects = 0
}

/// What a reader does with a box that passes the image border or has no area.
public enum BoxPolicy: Sendable, Equatable {
    /// For training: clipped to the image within a small tolerance (reported past
    /// one pixel), dropped beyond it or when degenerate (reported, counted in the
    /// record's droppedObjects).
    case fitToImage
    /// For evaluation: every finite box is kept exactly as written, as pycocotools
    /// counts it (a zero-area box is a ground truth no detection can match); the
    /// same problems are still reported.
    case asGiven
}

/// How a dataset is read: whether records need their image file, and the box policy.
struct DatasetReading: Sendable {
    var requireImages: Bool
    var boxes: BoxPolicy
}

struct RecordAssembly {
    /// A box may pass an image border by this many pixels and be clipped without
    /// a report: the 1-based VOC convention puts edges at `width` or a pixel beyond.
    static let silentSlack = 1.0
    /// A box passing a border by more than the silent slack but at most this much
    /// (2% of that side, at least 2 pixels) is clipped to the image, kept and
    /// reported (boxClipped): annotation tools let a drag end a little outside.
    /// Further out, the box is dropped (boxOutOfBounds).
    static func clipTolerance(side: Int) -> Double { max(2, 0.02 * Double(side)) }

    let classes: [String]
    let requireImages: Bool
    let boxPolicy: BoxPolicy
    private let labelByName: [String: Int]

    init(classes: [String], reading: DatasetReading) {
        self.classes = classes
        self.requireImages = reading.requireImages
        self.boxPolicy = reading.boxes
        var labels: [String: Int] = [:]
        for (i, name) in classes.enumerated() where labels[name] == nil { labels[name] = i + 1 }
        self.labelByName = labels
    }

    /// The record for `raw`, or nil (with a problem) when its image is missing or
    /// has no readable header. The image's real size (from its header, EXIF
    /// orientation applied) wins over the annotated one, which is reported when
    /// it differs. Invalid objects are left out, each with a problem, and counted
    /// in `droppedObjects`.
    func record(_ raw: RawImage, problems: inout [DatasetProblem]) -> DetectionRecord? {
        var (width, height) = (raw.width, raw.height)
        switch ImageHeader.probe(raw.imageURL) {
        case .missing:
            if requireImages {
                problems.append(DatasetProblem(file: raw.annotationFile, kind: .missingImage,
                                               reason: "image \(raw.imageURL.path) does not exist"))
                return nil
            }
        case let .unreadable(why):
            if requireImages {
                problems.append(DatasetProblem(file: raw.imageURL.path, kind: .undecodableImage,
                                               reason: "\(why) (annotated in \(raw.annotationFile))"))
                return nil
            }
        case let .size(realWidth, realHeight):
            if width > 0 && height > 0 && (width, height) != (realWidth, realHeight) {
                problems.append(DatasetProblem(file: raw.annotationFile, kind: .sizeMismatch,
                                               reason: "the annotation says \(width)x\(height) but \(raw.imageURL.lastPathComponent) is "
                                                   + "\(realWidth)x\(realHeight) (as displayed); boxes are checked against \(realWidth)x\(realHeight)"))
            }
            (width, height) = (realWidth, realHeight)
        }
        var record = DetectionRecord(imageURL: raw.imageURL, width: width, height: height, imageId: raw.imageId)
        record.droppedObjects = raw.unusableObjects
        for object in raw.objects {
            guard let label = labelByName[object.className] else {
                problems.append(DatasetProblem(file: raw.annotationFile, kind: .unknownClass,
                                               reason: "\(object.location): class '\(object.className)' is not among \(classes)"))
                record.droppedObjects += 1
                continue
            }
            let fitted = Self.fit(object.box, width: width, height: height)
            let keptAsGiven = boxPolicy == .asGiven && fitted.problem?.kind != .unparsable
            if let problem = fitted.problem {
                problems.append(DatasetProblem(file: raw.annotationFile, kind: problem.kind,
                                               reason: "\(object.location) (\(object.className)): \(problem.reason)"
                                                   + (keptAsGiven ? "; scored as written" : "")))
            }
            if keptAsGiven {
                record.append(box: object.box, label: label, area: object.area, difficult: object.difficult, isCrowd: object.isCrowd)
                continue
            }
            guard let box = fitted.box else {
                record.droppedObjects += 1
                continue
            }
            // COCO's `area` (the segment's, which clipping the box does not change) stays;
            // without one, the area is the clipped box's.
            record.append(box: box, label: label, area: object.area, difficult: object.difficult, isCrowd: object.isCrowd)
        }
        return record
    }

    /// The usable box for `box` in a width x height image (clipped when it passes a
    /// border within the tolerance), or nil when it must be dropped; and the problem
    /// to report, if any. A size of 0 (unknown) skips the bounds check.
    static func fit(_ box: BoundingBox, width: Int, height: Int)
        -> (box: BoundingBox?, problem: (kind: DatasetProblem.Kind, reason: String)?) {
        let text = describe(box)
        guard box.x1.isFinite, box.y1.isFinite, box.x2.isFinite, box.y2.isFinite else {
            return (nil, (.unparsable, "box \(text) has a non-finite coordinate"))
        }
        if box.x2 <= box.x1 || box.y2 <= box.y1 {
            return (nil, (.zeroAreaBox, "box \(text) has zero or negative area"))
        }
        guard width > 0 && height > 0 else { return (box, nil) }
        let (w, h) = (Double(width), Double(height))
        let overhangX = max(-box.x1, box.x2 - w, 0), overhangY = max(-box.y1, box.y2 - h, 0)
        let (toleranceX, toleranceY) = (clipTolerance(side: width), clipTolerance(side: height))
        let clipped = BoundingBox(x1: min(max(box.x1, 0), w), y1: min(max(box.y1, 0), h),
                                  x2: min(max(box.x2, 0), w), y2: min(max(box.y2, 0), h))
        if overhangX > toleranceX || overhangY > toleranceY || clipped.x2 <= clipped.x1 || clipped.y2 <= clipped.y1 {
            return (nil, (.boxOutOfBounds, "box \(text) lies outside the \(width)x\(height) image "
                          + "(past a border by more than 2% of the side or 2 pixels, the clipping tolerance)"))
        }
        if overhangX > silentSlack || overhangY > silentSlack {
            return (clipped, (.boxClipped, "box \(text) passes the border of the \(width)x\(height) image; clipped to \(describe(clipped))"))
        }
        return (clipped, nil)
    }

    static func describe(_ box: BoundingBox) -> String {
        "[\(format(box.x1)), \(format(box.y1)), \(format(box.x2)), \(format(box.y2))]"
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}

/// Finds the image for `name` in `directories`, trying the usual extensions
/// when `name` has none. Returns the first existing path, else the first guess.
func resolveImage(named name: String, in directories: [URL]) -> URL {
    let fm = FileManager.default
    let hasExtension = PathText.hasExtension(name)
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
