// CSV box lists, one box per row, with a header naming the columns:
//   Luminoth:          image_id,xmin,ymin,xmax,ymax,label
//   TF object-detection exports: filename,width,height,class,xmin,ymin,xmax,ymax
// A split is one file: {split}.csv or {split}_labels.csv. Images are looked for
// in {split}/, images/, ../images/ and the CSV's folder. A row with an image name
// and empty box fields is an image without objects.

import Foundation
import VisionCore

enum CSVReader {
    /// CSV files of a folder (or its data/ subfolder), by split name.
    static func csvFiles(in root: URL) -> [(split: String, file: URL)] {
        for dir in [root, root.appendingPathComponent("data")] where isDirectory(dir) {
            let files = listDirectory(dir).filter { $0.pathExtension.lowercased() == "csv" }
            if !files.isEmpty { return files.map { (splitName(of: $0), $0) }.sorted { DetectionDataset.splitOrder($0.split, $1.split) } }
        }
        return []
    }

    /// "train_labels.csv" -> "train"; "val.csv" -> "val".
    static func splitName(of file: URL) -> String {
        let stem = file.deletingPathExtension().lastPathComponent
        return stem.hasSuffix("_labels") ? String(stem.dropLast("_labels".count)) : stem
    }

    private struct Columns {
        var image: Int, label: Int, xmin: Int, ymin: Int, xmax: Int, ymax: Int
        var width: Int?, height: Int?

        init?(header: [String]) {
            let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            func find(_ options: String...) -> Int? { options.lazy.compactMap { names.firstIndex(of: $0) }.first }
            guard let image = find("image_id", "filename", "file", "image"), let label = find("label", "class"),
                  let xmin = find("xmin", "x_min"), let ymin = find("ymin", "y_min"),
                  let xmax = find("xmax", "x_max"), let ymax = find("ymax", "y_max") else { return nil }
            (self.image, self.label, self.xmin, self.ymin, self.xmax, self.ymax) = (image, label, xmin, ymin, xmax, ymax)
            (width, height) = (find("width"), find("height"))
        }
    }

    /// `imageDirectory`, when given, holds every split's images (`--images`).
    static func load(root: URL, files: [(split: String, file: URL)], reading: DatasetReading,
                     imageDirectory: URL? = nil) throws -> DetectionDataset {
        var problems: [DatasetProblem] = []
        var parsedSplits: [(split: String, raws: [RawImage])] = []
        for (split, file) in files {
            guard let text = FileContents.utf8Text(of: file) else {
                throw DatasetError.unreadable(file.path, reason: "cannot read the file as UTF-8 text")
            }
            var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
            while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
            guard let header = lines.first, let columns = Columns(header: splitFields(header)) else {
                throw DatasetError.unrecognizedLayout(file.path, reason: "the header must name image_id (or filename), "
                    + "xmin, ymin, xmax, ymax and label (or class); found '\(lines.first ?? "")'")
            }
            let csvDir = file.deletingLastPathComponent()
            let imageDirs = [csvDir.appendingPathComponent(split), root.appendingPathComponent(split),
                             csvDir.appendingPathComponent("images"), csvDir.deletingLastPathComponent().appendingPathComponent("images"),
                             root.appendingPathComponent("images"), csvDir, root].filter(isDirectory)
            var order: [String] = []
            var raws: [String: RawImage] = [:]
            let needed = [columns.image, columns.label, columns.xmin, columns.ymin, columns.xmax, columns.ymax,
                          columns.width ?? 0, columns.height ?? 0].max()!
            for (n, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let location = "line \(n + 1)"
                let fields = splitFields(line).map { $0.trimmingCharacters(in: .whitespaces) }
                func field(_ index: Int) -> String { index < fields.count ? fields[index] : "" }
                let imageName = field(columns.image)
                // A row naming an image with every box field empty (`img.jpg,,,,,`, or
                // `img.jpg,640,480,,,,,`) is an image without objects: a negative example.
                let negative = [columns.label, columns.xmin, columns.ymin, columns.xmax, columns.ymax].allSatisfy { field($0).isEmpty }
                guard !imageName.isEmpty else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: "\(location): no image name"))
                    continue
                }
                guard negative || fields.count > needed else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: "\(location): \(fields.count) fields, expected \(needed + 1)"))
                    continue
                }
                if raws[imageName] == nil {
                    var raw = RawImage(imageURL: imageDirectory.map { resolveImage(named: imageName, in: [$0]) }
                                           ?? resolveImage(named: imageName, in: imageDirs),
                                       width: 0, height: 0, annotationFile: file.path)
                    // Checked against the image's header in RecordAssembly.
                    if let w = columns.width.flatMap({ Int(field($0)) }), let h = columns.height.flatMap({ Int(field($0)) }) {
                        (raw.width, raw.height) = (w, h)
                    }
                    raws[imageName] = raw
                    order.append(imageName)
                }
                if negative { continue }
                let coordinates = [columns.xmin, columns.ymin, columns.xmax, columns.ymax].compactMap { Double(field($0)) }
                guard coordinates.count == 4, !field(columns.label).isEmpty else {
                    let why = coordinates.count == 4 ? "no label" : "a coordinate is not a number"
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: "\(location): \(why)"))
                    raws[imageName]!.unusableObjects += 1
                    continue
                }
                let box = BoundingBox(x1: coordinates[0], y1: coordinates[1], x2: coordinates[2], y2: coordinates[3])
                raws[imageName]!.objects.append(RawObject(className: field(columns.label), box: box, location: location))
            }
            parsedSplits.append((split, order.map { raws[$0]! }))
        }
        let classes = Set(parsedSplits.flatMap { $0.raws.flatMap { $0.objects.map(\.className) } }).sorted()
        let assembly = RecordAssembly(classes: classes, reading: reading)
        let splits = parsedSplits.map { split in
            (name: split.split, records: split.raws.enumerated().compactMap { i, raw -> DetectionRecord? in
                var numbered = raw
                numbered.imageId = i + 1
                return assembly.record(numbered, problems: &problems)
            })
        }
        return DetectionDataset(format: .csv, root: root, classes: classes, splits: splits, problems: problems)
    }

    /// Splits one CSV line on commas, honouring double-quoted fields ("" is a quote).
    static func splitFields(_ line: String) -> [String] {
        let chars = Array(line)
        var fields: [String] = []
        var current = ""
        var quoted = false
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted && c == "\"" && i + 1 < chars.count && chars[i + 1] == "\"" {
                current.append("\"")
                i += 1
            } else if c == "\"" {
                quoted.toggle()
            } else if c == "," && !quoted {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        fields.append(current)
        return fields
    }
}
