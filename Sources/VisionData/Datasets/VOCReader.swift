// Pascal VOC: one XML per image. The canonical layout is root/Annotations/{id}.xml,
// root/JPEGImages/, root/ImageSets/Main/{split}.txt; the common variants are read
// too: annotations/ (lower case), images/ or Images/ for the pictures, and no split
// lists (one split "all"), as in the raccoon dataset.

import Foundation
import VisionCore

/// Where a VOC dataset's parts are.
struct VOCLayout {
    /// The folder of XML files.
    var annotations: URL
    /// Folders searched for the images, in order.
    var imageDirectories: [URL]
    /// The folder whose ImageSets/Main holds the split lists (the dataset root).
    var root: URL

    var hasSplitLists: Bool { !VOCReader.splitFiles(root: root).isEmpty }
}

enum VOCReader {
    static let annotationFolderNames = ["Annotations", "annotations"]
    static let imageFolderNames = ["JPEGImages", "images", "Images"]

    /// The VOC layout of `root`: an Annotations/ (or annotations/) folder holding
    /// .xml files, the images in JPEGImages/, images/ or Images/ (else root itself).
    static func layout(of root: URL) -> VOCLayout? {
        guard let annotations = annotationFolderNames.map({ root.appendingPathComponent($0) }).first(where: holdsXML) else {
            return nil
        }
        let imageDirs = imageFolderNames.map { root.appendingPathComponent($0) }.filter(isDirectory)
        return VOCLayout(annotations: annotations, imageDirectories: imageDirs.isEmpty ? [root] : imageDirs, root: root)
    }

    static func holdsXML(_ folder: URL) -> Bool {
        listDirectory(folder).contains { $0.pathExtension == "xml" }
    }

    static func load(root: URL, reading: DatasetReading) throws -> DetectionDataset {
        guard let layout = layout(of: root) else {
            throw DatasetError.unrecognizedLayout(root.path, reason: "no Annotations/ or annotations/ folder of .xml files")
        }
        return try load(layout, reading: reading)
    }

    static func load(_ layout: VOCLayout, reading: DatasetReading) throws -> DetectionDataset {
        var problems: [DatasetProblem] = []
        let splitIDs = try splitLists(layout)
        // Every annotation named by some split (or all of them when there are no split files), parsed once.
        var ids: [String] = []
        var seen = Set<String>()
        for (_, list) in splitIDs { for id in list where seen.insert(id).inserted { ids.append(id) } }

        var raws: [String: RawImage] = [:]
        for id in ids {
            let file = layout.annotations.appendingPathComponent(id + ".xml")
            guard let data = try? FileContents.data(of: file) else {
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
            var raw = RawImage(imageURL: imageURL(for: parsed, id: id, annotationFile: file, layout: layout),
                               width: parsed.width, height: parsed.height, annotationFile: file.path)
            for (i, object) in parsed.objects.enumerated() {
                let location = "object \(i + 1)"
                guard let name = object.name, !name.isEmpty else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: "\(location): no <name>"))
                    raw.unusableObjects += 1
                    continue
                }
                let c = object.coordinates.compactMap { $0 }
                guard c.count == 4 else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable,
                                                   reason: "\(location) (\(name)): <bndbox> lacks a numeric xmin, ymin, xmax or ymax"))
                    raw.unusableObjects += 1
                    continue
                }
                raw.objects.append(RawObject(className: name, box: BoundingBox(x1: c[0], y1: c[1], x2: c[2], y2: c[3]),
                                             difficult: object.difficult, location: location))
            }
            raws[id] = raw
        }

        // VOC's class list is alphabetical; the names found, sorted, give the same order.
        let classes = Set(raws.values.flatMap { $0.objects.map(\.className) }).sorted()
        let assembly = RecordAssembly(classes: classes, reading: reading)
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
        return DetectionDataset(format: .pascalVOC, root: layout.root, classes: classes, splits: splits, problems: byFile)
    }

    /// The image an annotation names: its <filename> in the image folders; its
    /// <path> as written (absolute, or relative to the XML's folder) or that
    /// path's last component in the image folders; then the annotation's own
    /// name with the usual extensions. When none exists: the first guess.
    static func imageURL(for annotation: VOCAnnotation, id: String, annotationFile: URL, layout: VOCLayout) -> URL {
        let fm = FileManager.default
        var guesses: [URL] = []
        if let name = annotation.filename, !name.isEmpty {
            guesses.append(resolveImage(named: name, in: layout.imageDirectories))
        }
        if let path = annotation.path, !path.isEmpty {
            let direct = path.hasPrefix("/") ? URL(fileURLWithPath: path)
                : annotationFile.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
            guesses.append(direct)
            // Windows paths from labelImg: C:\Users\...\img.jpg
            let last = path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? path
            guesses.append(resolveImage(named: last, in: layout.imageDirectories))
        }
        guesses.append(resolveImage(named: id, in: layout.imageDirectories))
        return guesses.first { fm.fileExists(atPath: $0.path) && !isDirectory($0) } ?? guesses[0]
    }

    /// The split list files of root/ImageSets/Main; per-class files ({class}_{split}.txt) are skipped.
    static func splitFiles(root: URL) -> [URL] {
        let files = listDirectory(root.appendingPathComponent("ImageSets/Main")).filter { $0.pathExtension == "txt" }
        let stems = Set(files.map { $0.deletingPathExtension().lastPathComponent })
        return files.filter { file in
            let stem = file.deletingPathExtension().lastPathComponent
            guard let underscore = stem.lastIndex(of: "_") else { return true }
            return !stems.contains(String(stem[stem.index(after: underscore)...]))
        }
    }

    /// Split name -> annotation ids, from ImageSets/Main/{split}.txt. Without split
    /// files: one split "all" holding every XML of the annotations folder.
    static func splitLists(_ layout: VOCLayout) throws -> [(name: String, ids: [String])] {
        let splitFiles = splitFiles(root: layout.root)
        if splitFiles.isEmpty {
            let all = listDirectory(layout.annotations)
                .filter { $0.pathExtension == "xml" }.map { $0.deletingPathExtension().lastPathComponent }
            return [("all", all)]
        }
        let sorted = splitFiles.sorted {
            DetectionDataset.splitOrder($0.deletingPathExtension().lastPathComponent, $1.deletingPathExtension().lastPathComponent)
        }
        return try sorted.map { file in
            guard let text = FileContents.utf8Text(of: file) else {
                throw DatasetError.unreadable(file.path, reason: "cannot read the split list")
            }
            let ids = text.split(whereSeparator: \.isNewline).compactMap { line in
                line.split(whereSeparator: \.isWhitespace).first.map(String.init)
            }
            return (file.deletingPathExtension().lastPathComponent, ids)
        }
    }
}
