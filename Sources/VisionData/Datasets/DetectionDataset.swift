// The format-independent dataset model every reader produces.

import Foundation
import VisionCore

/// An axis-aligned box in image pixels, corners (x1, y1) top-left and (x2, y2)
/// bottom-right, as written in the annotation file (no +1 pixel convention).
public struct BoundingBox: Hashable, Sendable, Codable {
    public var x1: Double, y1: Double, x2: Double, y2: Double

    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
    }

    public var width: Double { x2 - x1 }
    public var height: Double { y2 - y1 }
    /// w * h, the area COCOeval uses when an annotation has no `area` field.
    public var area: Double { width * height }
}

/// One image of a dataset with its ground truth. The arrays `boxes`, `labels`,
/// `areas`, `difficult` and `isCrowd` are parallel (one entry per object).
public struct DetectionRecord: Hashable, Sendable {
    public var imageURL: URL
    public var width: Int
    public var height: Int
    public var boxes: [BoundingBox]
    /// 1-based index into `DetectionDataset.classes`; 0 is the background and never appears here.
    public var labels: [Int]
    /// COCO's `area` field where the file has one, else the box's w * h.
    public var areas: [Double]
    /// Pascal VOC's `difficult` flag (false for formats without it).
    public var difficult: [Bool]
    /// COCO's `iscrowd` flag (false for formats without it).
    public var isCrowd: [Bool]
    /// The COCO image id, or the record's 1-based position in its split.
    public var imageId: Int
    /// Objects the annotation names that were left out for a problem (unknown class,
    /// unusable box; each one is in the dataset's problems). Training leaves such an
    /// image out rather than teach its lost objects as background.
    public var droppedObjects = 0

    public init(imageURL: URL, width: Int, height: Int, boxes: [BoundingBox] = [], labels: [Int] = [],
                areas: [Double]? = nil, difficult: [Bool]? = nil, isCrowd: [Bool]? = nil, imageId: Int = 0) {
        precondition(boxes.count == labels.count, "one label per box")
        self.imageURL = imageURL
        self.width = width
        self.height = height
        self.boxes = boxes
        self.labels = labels
        self.areas = areas ?? boxes.map(\.area)
        self.difficult = difficult ?? Array(repeating: false, count: boxes.count)
        self.isCrowd = isCrowd ?? Array(repeating: false, count: boxes.count)
        self.imageId = imageId
        precondition(self.areas.count == boxes.count && self.difficult.count == boxes.count
                     && self.isCrowd.count == boxes.count, "parallel arrays differ in length")
    }

    public var fileName: String { imageURL.lastPathComponent }

    mutating func append(box: BoundingBox, label: Int, area: Double? = nil, difficult: Bool = false, isCrowd: Bool = false) {
        boxes.append(box)
        labels.append(label)
        areas.append(area ?? box.area)
        self.difficult.append(difficult)
        self.isCrowd.append(isCrowd)
    }
}

/// A problem found while reading a dataset. The box, record or file concerned
/// was skipped; reading went on.
public struct DatasetProblem: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case zeroAreaBox = "zero-area box"
        case boxOutOfBounds = "box out of bounds"
        case missingImage = "missing image"
        case unknownClass = "unknown class"
        case unparsable = "unparsable"
        case missingAnnotation = "missing annotation"
        case duplicateImage = "duplicate image"
        /// A box passing the border by a few pixels, clipped to the image (kept).
        case boxClipped = "box clipped"
        /// The annotation's image size contradicts the image file's header.
        case sizeMismatch = "size mismatch"
        /// The image file exists but cannot be decoded.
        case undecodableImage = "undecodable image"
    }

    public var file: String
    public var kind: Kind
    public var reason: String

    public init(file: String, kind: Kind, reason: String) {
        self.file = file
        self.kind = kind
        self.reason = reason
    }

    /// One line: quoted annotation text has its control characters escaped.
    public var description: String { singleLine("\(file): \(kind.rawValue): \(reason)") }
}

/// The annotation formats `DetectionDataset.load(from:)` recognises.
public enum DatasetFormat: String, Sendable, CaseIterable {
    case pascalVOC = "Pascal VOC"
    case coco = "COCO JSON"
    case csv = "CSV"
    case yolo = "YOLO"
}

/// A detection dataset: class names, named splits and their records.
public struct DetectionDataset: Sendable {
    public var format: DatasetFormat
    /// Where the dataset was loaded from.
    public var root: URL
    /// Class names, without the background: label `i` names `classes[i - 1]`.
    public var classes: [String]
    /// Split names in a stable order (e.g. train, val, trainval, test).
    public var splits: [String]
    /// Everything skipped while reading, in reading order.
    public var problems: [DatasetProblem]
    /// What the reader chose where the folder allowed another reading (not problems).
    public var notes: [String] = []
    var recordsBySplit: [String: [DetectionRecord]]

    public init(format: DatasetFormat, root: URL, classes: [String], splits: [(name: String, records: [DetectionRecord])],
                problems: [DatasetProblem]) {
        self.format = format
        self.root = root
        self.classes = classes
        self.splits = splits.map(\.name)
        self.problems = problems
        var bySplit: [String: [DetectionRecord]] = [:]
        for split in splits { bySplit[split.name] = split.records }
        self.recordsBySplit = bySplit
    }

    /// The records of `split`, in file order (COCO: by image id).
    public func records(split: String) throws -> [DetectionRecord] {
        guard let records = recordsBySplit[split] else {
            throw DatasetError.unknownSplit(root.path, split: split, known: splits)
        }
        return records
    }

    /// Label for a class name (1-based), nil when the dataset has no such class.
    public func label(forClass name: String) -> Int? {
        classes.firstIndex(of: name).map { $0 + 1 }
    }

    /// Conventional splits first (train, val, trainval, test), then the rest alphabetically.
    static func splitOrder(_ a: String, _ b: String) -> Bool {
        let order = ["train", "val", "trainval", "test"]
        return (order.firstIndex(of: a) ?? order.count, a) < (order.firstIndex(of: b) ?? order.count, b)
    }

    /// The split to evaluate when none is named: "test" when present, else the only split.
    public func defaultEvaluationSplit() throws -> String {
        if splits.contains("test") { return "test" }
        if splits.count == 1 { return splits[0] }
        throw DatasetError.splitRequired(root.path, known: splits)
    }
}
