// COCO instances JSON: {"images": [{id, file_name, width, height}],
// "annotations": [{id, image_id, category_id, bbox: [x, y, w, h], area, iscrowd}],
// "categories": [{id, name}]}. Either one JSON file, or a folder holding
// annotations/instances_{split}.json (or {split}.json) beside the images.

import Foundation
import VisionCore

enum COCOReader {
    /// The annotation files of a folder, by split name.
    static func annotationFiles(in root: URL) -> [(split: String, file: URL)] {
        var dirs = [root.appendingPathComponent("annotations"), root]
        dirs = dirs.filter(isDirectory)
        for dir in dirs {
            let files = listDirectory(dir).filter { $0.pathExtension.lowercased() == "json" }
            let instances = files.filter { $0.lastPathComponent.hasPrefix("instances_") }
            let chosen = instances.isEmpty ? (dir.lastPathComponent == "annotations" ? files : []) : instances
            if !chosen.isEmpty { return chosen.map { (splitName(of: $0), $0) }.sorted { DetectionDataset.splitOrder($0.split, $1.split) } }
        }
        return []
    }

    /// "instances_val2017.json" -> "val2017"; "train.json" -> "train".
    static func splitName(of file: URL) -> String {
        let stem = file.deletingPathExtension().lastPathComponent
        return stem.hasPrefix("instances_") ? String(stem.dropFirst("instances_".count)) : stem
    }

    /// `imageDirectory`, when given, holds every split's images (`--images`);
    /// else they are looked for beside the JSON (see imageDirectories).
    static func load(root: URL, files: [(split: String, file: URL)], reading: DatasetReading,
                     imageDirectory: URL? = nil) throws -> DetectionDataset {
        var problems: [DatasetProblem] = []
        var parsed: [(split: String, file: URL, json: [String: Any])] = []
        for (split, file) in files {
            guard let data = try? FileContents.data(of: file) else { throw DatasetError.unreadable(file.path, reason: "cannot read the file") }
            guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw DatasetError.unreadable(file.path, reason: "not a JSON object")
            }
            guard json["images"] is [Any], json["categories"] is [Any] else {
                throw DatasetError.unrecognizedLayout(file.path, reason: "JSON without \"images\" and \"categories\" lists")
            }
            parsed.append((split, file, json))
        }
        // Classes: the categories of the first file, ordered by id (label = rank + 1).
        var categories: [(id: Int, name: String)] = []
        for entry in (parsed.first?.json["categories"] as? [Any]) ?? [] {
            guard let c = entry as? [String: Any], let id = intValue(c["id"]), let name = c["name"] as? String else {
                problems.append(DatasetProblem(file: parsed[0].file.path, kind: .unparsable, reason: "category \(entry) lacks an id or name"))
                continue
            }
            categories.append((id, name))
        }
        categories.sort { $0.id < $1.id }
        let classes = categories.map(\.name)
        let nameByCategory = Dictionary(categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })

        let assembly = RecordAssembly(classes: classes, reading: reading)
        var splits: [(name: String, records: [DetectionRecord])] = []
        for (split, file, json) in parsed {
            let imageDirs = imageDirectory.map { [$0] } ?? imageDirectories(annotationFile: file, root: root, split: split,
                                             firstImage: ((json["images"] as? [Any])?.first as? [String: Any])?["file_name"] as? String)
            var raws: [Int: RawImage] = [:]
            for entry in json["images"] as? [Any] ?? [] {
                guard let image = entry as? [String: Any], let id = intValue(image["id"]), let name = image["file_name"] as? String else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: "image entry lacks an id or file_name"))
                    continue
                }
                if raws[id] != nil {
                    problems.append(DatasetProblem(file: file.path, kind: .duplicateImage, reason: "image id \(id) appears twice"))
                    continue
                }
                // The size in the JSON is checked against the image's header in RecordAssembly.
                raws[id] = RawImage(imageURL: resolveImage(named: name, in: imageDirs), width: intValue(image["width"]) ?? 0,
                                    height: intValue(image["height"]) ?? 0, annotationFile: file.path, imageId: id)
            }
            for (i, entry) in (json["annotations"] as? [Any] ?? []).enumerated() {
                let ann = entry as? [String: Any] ?? [:]
                let location = "annotation \(intValue(ann["id"]).map(String.init) ?? "#\(i + 1)")"
                guard let imageId = intValue(ann["image_id"]), let category = intValue(ann["category_id"]),
                      let bbox = ann["bbox"] as? [Any], bbox.count == 4 else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable,
                                                   reason: "\(location): needs image_id, category_id and a 4-number bbox"))
                    // The image it belongs to, where that much is known, lost an object.
                    if let imageId = intValue(ann["image_id"]), raws[imageId] != nil { raws[imageId]!.unusableObjects += 1 }
                    continue
                }
                guard raws[imageId] != nil else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: "\(location): unknown image_id \(imageId)"))
                    continue
                }
                let xywh = bbox.compactMap(doubleValue)
                guard xywh.count == 4 else {
                    problems.append(DatasetProblem(file: file.path, kind: .unparsable, reason: "\(location): bbox \(bbox) is not numeric"))
                    raws[imageId]!.unusableObjects += 1
                    continue
                }
                let box = BoundingBox(x1: xywh[0], y1: xywh[1], x2: xywh[0] + xywh[2], y2: xywh[1] + xywh[3])
                raws[imageId]!.objects.append(RawObject(
                    className: nameByCategory[category] ?? "category_id \(category)", box: box,
                    area: doubleValue(ann["area"] as Any), isCrowd: (intValue(ann["iscrowd"]) ?? 0) != 0, location: location))
            }
            // pycocotools evaluates images in ascending id order; keep that order.
            let records = raws.keys.sorted().compactMap { assembly.record(raws[$0]!, problems: &problems) }
            splits.append((split, records))
        }
        return DetectionDataset(format: .coco, root: root, classes: classes, splits: splits, problems: problems)
    }

    /// Where images of `split` may be: images/{split}, {split}/, images/, then
    /// the JSON's own folder. The folder holding the first image comes first.
    static func imageDirectories(annotationFile: URL, root: URL, split: String, firstImage: String?) -> [URL] {
        let jsonDir = annotationFile.deletingLastPathComponent()
        let base = jsonDir.lastPathComponent == "annotations" ? jsonDir.deletingLastPathComponent() : jsonDir
        var candidates = [base.appendingPathComponent("images/\(split)"), base.appendingPathComponent(split),
                          base.appendingPathComponent("images"), jsonDir, root]
        candidates = candidates.filter(isDirectory)
        if let first = firstImage, let hit = candidates.firstIndex(where: {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent(first).path)
        }) {
            candidates.insert(candidates.remove(at: hit), at: 0)
        }
        return candidates.isEmpty ? [jsonDir] : candidates
    }

    static func intValue(_ any: Any?) -> Int? {
        if let n = any as? NSNumber {
            let d = n.doubleValue
            return d == d.rounded() && abs(d) < 9e15 ? Int(d) : nil
        }
        if let s = any as? String { return Int(s) }
        return nil
    }

    static func doubleValue(_ any: Any) -> Double? {
        if let n = any as? NSNumber { return n.doubleValue }
        return nil
    }
}
