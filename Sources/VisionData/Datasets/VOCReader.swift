// Pascal VOC: root/Annotations/{id}.xml, root/JPEGImages/, root/ImageSets/Main/{split}.txt.

import Foundation

enum VOCReader {
    static func looksLikeVOC(_ root: URL) -> Bool {
        isDirectory(root.appendingPathComponent("Annotations"))
    }

    static func load(root: URL, requireImages: Bool) throws -> DetectionDataset {
        let annotations = root.appendingPathComponent("Annotations")
        let imageDir = root.appendingPathComponent("JPEGImages")
        var problems: [DatasetProblem] = []

        let splitIDs = try splitLists(root: root)
        // Every annotation named by some split (or all of them when there are no split files), parsed once.
        var ids: [String] = []
        var seen = Set<String>()
        for (_, list) in splitIDs { for id in list where seen.insert(id).inserted { ids.append(id) } }

        var raws: [String: RawImage] = [:]
        for id in ids {
            let file = annotations.appendingPathComponent(id + ".xml")
            guard let data = try? Data(contentsOf: file) else {
                problems.append(DatasetProblem(file: file.path, kind: .missingAnnotation, reason: "listed in a split but cannot be read"))
                continue
            }
            let parsed: VOCAnnotation
            do {
                parsed = try VOCAnnotationParser.parse(data)
            } catch let DatasetError.unreadable(_, reason) {
                problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: reason))
                continue
            }
            var names: [String] = []
            if let name = parsed.filename, !name.isEmpty { names.append(name) }
            names.append(id)
            let imageURL = names.lazy.map { resolveImage(named: $0, in: [imageDir]) }
                .first { FileManager.default.fileExists(atPath: $0.path) } ?? resolveImage(named: names[0], in: [imageDir])
            var raw = RawImage(imageURL: imageURL, width: parsed.width, height: parsed.height, annotationFile: file.path)
            if raw.width <= 0 || raw.height <= 0, let size = ImageHeader.size(of: imageURL) {
                (raw.width, raw.height) = size
            }
            for (i, object) in parsed.objects.enumerated() {
                let location = "object \(i + 1)"
                guard let name = object.name, !name.isEmpty else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: "\(location): no <name>"))
                    continue
                }
                let c = object.coordinates.compactMap { $0 }
                guard c.count == 4 else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable,
                                                   reason: "\(location) (\(name)): <bndbox> lacks a numeric xmin, ymin, xmax or ymax"))
                    continue
                }
                raw.objects.append(RawObject(className: name, box: BoundingBox(x1: c[0], y1: c[1], x2: c[2], y2: c[3]),
                                             difficult: object.difficult, location: location))
            }
            raws[id] = raw
        }

        // VOC's class list is alphabetical; the names found, sorted, give the same order.
        let classes = Set(raws.values.flatMap { $0.objects.map(\.className) }).sorted()
        let assembly = RecordAssembly(classes: classes, requireImages: requireImages)
        var records: [String: DetectionRecord] = [:]
        for id in ids {
            guard let raw = raws[id] else { continue }
            records[id] = assembly.record(raw, problems: &problems)
        }
        let splits = splitIDs.map { split in
            (name: split.name, records: split.ids.compactMap { records[$0] }.enumerated().map { i, r -> DetectionRecord in
                var numbered = r
                numbered.imageId = i + 1
                return numbered
            })
        }
        // Listed by file, whatever order the splits named them in.
        let byFile = problems.enumerated().sorted { ($0.element.file, $0.offset) < ($1.element.file, $1.offset) }.map(\.element)
        return DetectionDataset(format: .pascalVOC, root: root, classes: classes, splits: splits, problems: byFile)
    }

    /// Split name -> annotation ids, from ImageSets/Main/{split}.txt. Per-class files
    /// ({class}_{split}.txt) are skipped. Without split files: one split "all".
    static func splitLists(root: URL) throws -> [(name: String, ids: [String])] {
        let main = root.appendingPathComponent("ImageSets/Main")
        let files = listDirectory(main).filter { $0.pathExtension == "txt" }
        let stems = Set(files.map { $0.deletingPathExtension().lastPathComponent })
        let splitFiles = files.filter { file in
            let stem = file.deletingPathExtension().lastPathComponent
            guard let underscore = stem.lastIndex(of: "_") else { return true }
            return !stems.contains(String(stem[stem.index(after: underscore)...]))
        }
        if splitFiles.isEmpty {
            let all = listDirectory(root.appendingPathComponent("Annotations"))
                .filter { $0.pathExtension == "xml" }.map { $0.deletingPathExtension().lastPathComponent }
            return [("all", all)]
        }
        let sorted = splitFiles.sorted {
            DetectionDataset.splitOrder($0.deletingPathExtension().lastPathComponent, $1.deletingPathExtension().lastPathComponent)
        }
        return try sorted.map { file in
            guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                throw DatasetError.unreadable(file.path, reason: "cannot read the split list")
            }
            let ids = text.split(whereSeparator: \.isNewline).compactMap { line in
                line.split(whereSeparator: \.isWhitespace).first.map(String.init)
            }
            return (file.deletingPathExtension().lastPathComponent, ids)
        }
    }
}
