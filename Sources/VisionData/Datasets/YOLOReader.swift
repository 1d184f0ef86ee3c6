// YOLO txt: images/ and labels/ side by side, one labels/{stem}.txt per image
// with lines `class cx cy w h` (0-based class, coordinates normalised to 0...1).
// Splits: images/{split}/ + labels/{split}/, or {split}/images + {split}/labels,
// else one split "all". Class names: classes.txt (or obj.names) one per line, or
// `names` in data.yaml / dataset.yaml (flow list, block list, or index: name map).

import Foundation
import VisionCore

enum YOLOReader {
    static func looksLikeYOLO(_ root: URL) -> Bool {
        !splitFolders(root).isEmpty
    }

    /// (split, images folder, labels folder) triples found under `root`.
    static func splitFolders(_ root: URL) -> [(split: String, images: URL, labels: URL)] {
        let images = root.appendingPathComponent("images"), labels = root.appendingPathComponent("labels")
        if isDirectory(images) && isDirectory(labels) {
            let subfolders = listDirectory(images).filter(isDirectory)
            if !subfolders.isEmpty {
                return subfolders.map { ($0.lastPathComponent, $0, labels.appendingPathComponent($0.lastPathComponent)) }
                    .sorted { DetectionDataset.splitOrder($0.0, $1.0) }
            }
            return [("all", images, labels)]
        }
        return listDirectory(root).filter { dir in
            isDirectory(dir.appendingPathComponent("images")) && isDirectory(dir.appendingPathComponent("labels"))
        }.map { ($0.lastPathComponent, $0.appendingPathComponent("images"), $0.appendingPathComponent("labels")) }
            .sorted { DetectionDataset.splitOrder($0.0, $1.0) }
    }

    static func load(root: URL, yaml: URL?, reading: DatasetReading) throws -> DetectionDataset {
        try load(root: root, classes: try classNames(root: root, yaml: yaml), folders: splitFolders(root), reading: reading)
    }

    /// A labels folder (`--annotations`) with its images folder (`--images`): one
    /// split "all". Class names: classes.txt or obj.names in the labels folder or
    /// the folder above it, else data.yaml there.
    static func load(images: URL, labels: URL, reading: DatasetReading) throws -> DetectionDataset {
        let parent = labels.deletingLastPathComponent()
        let classes: [String]
        if let names = ["classes.txt", "obj.names"].lazy.compactMap({ classList(labels.appendingPathComponent($0)) }).first {
            classes = names
        } else {
            classes = try classNames(root: parent, yaml: nil)
        }
        return try load(root: parent, classes: classes, folders: [("all", images, labels)], reading: reading)
    }

    static func load(root: URL, classes: [String], folders: [(split: String, images: URL, labels: URL)],
                     reading: DatasetReading) throws -> DetectionDataset {
        var problems: [DatasetProblem] = []
        let assembly = RecordAssembly(classes: classes, reading: reading)
        var splits: [(name: String, records: [DetectionRecord])] = []
        for (split, imageDir, labelDir) in folders {
            let imageFiles = listDirectory(imageDir).filter { imageExtensions.contains($0.pathExtension.lowercased()) }
            let imageStems = Set(imageFiles.map { $0.deletingPathExtension().lastPathComponent })
            for label in listDirectory(labelDir) where label.pathExtension == "txt"
                && !imageStems.contains(label.deletingPathExtension().lastPathComponent) && label.lastPathComponent != "classes.txt" {
                problems.append(DatasetProblem(file: label.path, kind: .missingImage, reason: "no image named \(label.deletingPathExtension().lastPathComponent).* in \(imageDir.path)"))
            }
            var records: [DetectionRecord] = []
            for image in imageFiles {
                let labelFile = labelDir.appendingPathComponent(image.deletingPathExtension().lastPathComponent + ".txt")
                // Labels are fractions of the displayed (EXIF-oriented) image, as Ultralytics reads it.
                let size: (width: Int, height: Int)
                switch ImageHeader.probe(image) {
                case let .size(width, height): size = (width, height)
                case let .unreadable(why):
                    problems.append(DatasetProblem(file: image.path, kind: .undecodableImage, reason: why))
                    continue
                case .missing: continue  // listed a moment ago; gone since
                }
                var raw = RawImage(imageURL: image, width: size.width, height: size.height, annotationFile: labelFile.path,
                                   imageId: records.count + 1)
                // An image without a label file is a background image (no objects).
                if let text = FileContents.utf8Text(of: labelFile) {
                    let parsed = parseLabels(text, width: Double(size.width), height: Double(size.height), classes: classes,
                                             file: labelFile.path, problems: &problems)
                    raw.objects = parsed.objects
                    raw.unusableObjects = parsed.unusable
                }
                if let record = assembly.record(raw, problems: &problems) { records.append(record) }
            }
            splits.append((split, records))
        }
        return DetectionDataset(format: .yolo, root: root, classes: classes, splits: splits, problems: problems)
    }

    static func parseLabels(_ text: String, width: Double, height: Double, classes: [String], file: String,
                            problems: inout [DatasetProblem]) -> (objects: [RawObject], unusable: Int) {
        var objects: [RawObject] = []
        var unusable = 0
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            let location = "line \(n + 1)"
            let numbers = fields.compactMap { Double($0) }
            guard fields.count == 5, numbers.count == 5, let cls = Int(fields[0]) else {
                problems.append(DatasetProblem(file: file, kind: .unparsable, reason: "\(location): expected 'class cx cy w h', found '\(line)'"))
                unusable += 1
                continue
            }
            guard cls >= 0 && cls < classes.count else {
                problems.append(DatasetProblem(file: file, kind: .unknownClass, reason: "\(location): class index \(cls) but \(classes.count) class names"))
                unusable += 1
                continue
            }
            let (cx, cy, w, h) = (numbers[1] * width, numbers[2] * height, numbers[3] * width, numbers[4] * height)
            objects.append(RawObject(className: classes[cls],
                                     box: BoundingBox(x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2),
                                     location: location))
        }
        return (objects, unusable)
    }

    /// Class names from classes.txt / obj.names (root or labels/), else data.yaml `names`.
    static func classNames(root: URL, yaml: URL?) throws -> [String] {
        let yamlCandidates = (yaml.map { [$0] } ?? []) + ["data.yaml", "dataset.yaml", "data.yml"].map { root.appendingPathComponent($0) }
        if yaml == nil {
            for name in ["classes.txt", "obj.names", "labels/classes.txt"] {
                if let names = classList(root.appendingPathComponent(name)) { return names }
            }
        }
        for file in yamlCandidates {
            guard let text = FileContents.utf8Text(of: file) else { continue }
            guard let names = yamlNames(text), !names.isEmpty else {
                throw DatasetError.noClasses(file.path, reason: "no usable `names:` entry")
            }
            return names
        }
        throw DatasetError.noClasses(root.path, reason: "add classes.txt (one name per line) or data.yaml with `names:`")
    }

    /// The non-empty lines of a classes.txt, or nil when it is missing or empty.
    static func classList(_ file: URL) -> [String]? {
        guard let text = FileContents.utf8Text(of: file) else { return nil }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return names.isEmpty ? nil : names
    }

    /// The `names` of a YOLO data.yaml: `names: [a, b]`, a block list of `- a`,
    /// or a block map of `0: a`. Not a general YAML parser.
    static func yamlNames(_ text: String) -> [String]? {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("names:") }) else { return nil }
        let inline = lines[start].dropFirst("names:".count).trimmingCharacters(in: .whitespaces)
        if inline.hasPrefix("[") {
            var body = inline.dropFirst()
            if let close = body.lastIndex(of: "]") { body = body[..<close] }
            return body.split(separator: ",").map { unquote(String($0)) }.filter { !$0.isEmpty }
        }
        var byIndex: [(Int, String)] = []
        var list: [String] = []
        for line in lines[(start + 1)...] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard line.first == " " || line.first == "\t" || trimmed.hasPrefix("- ") else { break }
            if trimmed.hasPrefix("- ") {
                list.append(unquote(String(trimmed.dropFirst(2))))
            } else if let colon = trimmed.firstIndex(of: ":"), let index = Int(trimmed[..<colon].trimmingCharacters(in: .whitespaces)) {
                byIndex.append((index, unquote(String(trimmed[trimmed.index(after: colon)...]))))
            } else {
                break
            }
        }
        if !byIndex.isEmpty { return byIndex.sorted { $0.0 < $1.0 }.map(\.1) }
        return list.isEmpty ? nil : list
    }

    private static func unquote(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        if let hash = t.range(of: " #") { t = String(t[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces) }
        if t.count >= 2, let f = t.first, f == "'" || f == "\"", t.last == f { t = String(t.dropFirst().dropLast()) }
        return t
    }
}
