// Reads `vision predict` JSON Lines and pairs its detections with a dataset split:
//   {"file": "img.jpg", "objects": [{"bbox": [x1, y1, x2, y2], "label": "dog", "label_id": 18, "prob": 0.9}]}
// Images are matched by file name (basename), classes by name.

import Foundation
import VisionCore

/// One line of a predictions file.
public struct PredictionLine: Sendable {
    public struct Object: Sendable {
        public var bbox: [Double]
        public var label: String
        public var prob: Double
    }
    public var file: String
    public var objects: [Object]
}

/// Predictions paired with the records of a split, and what did not pair up.
public struct MatchedPredictions: Sendable {
    public var images: [EvaluationImage]
    /// Records with no line in the predictions file (scored as having no detections).
    public var imagesWithoutPredictions: [String]
    /// Lines whose file is not in the split.
    public var unmatchedFiles: [String]
    /// Label names that are not dataset classes, with how many objects were dropped.
    public var unknownLabels: [String: Int]
}

public enum PredictionFile {
    /// Parses every line; a malformed line throws an error naming the file and line.
    public static func read(_ url: URL) throws -> [PredictionLine] {
        guard let text = FileContents.utf8Text(of: url) else {
            throw DatasetError.unreadable(url.path, reason: "cannot read the predictions file")
        }
        var lines: [PredictionLine] = []
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let problem = { (why: String) in DatasetError.unreadable(url.path, reason: "line \(n + 1): \(why)") }
            guard let json = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
                throw problem("not a JSON object")
            }
            guard let file = json["file"] as? String else { throw problem("no \"file\"") }
            var objects: [PredictionLine.Object] = []
            // Lines of images predict could not read carry "error" and no objects: no detections.
            for (i, any) in (json["objects"] as? [Any] ?? []).enumerated() {
                guard let o = any as? [String: Any], let box = (o["bbox"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.doubleValue }),
                      box.count == 4, let prob = (o["prob"] as? NSNumber)?.doubleValue else {
                    throw problem("object \(i + 1) needs \"bbox\" (4 numbers) and \"prob\"")
                }
                let label = (o["label"] as? String) ?? (o["label_id"] as? NSNumber).map { "class_\($0.intValue)" } ?? ""
                objects.append(.init(bbox: box, label: label, prob: prob))
            }
            lines.append(PredictionLine(file: file, objects: objects))
        }
        return lines
    }

    /// torchvision's box_score_thresh: a Faster R-CNN's own output holds
    /// detections down to this probability (at most 100 per image).
    public static let modelScoreFloor = 0.05

    /// Fewer images with detections than this are not judged: a model's own
    /// output for one clean image may hold no detection below 0.1 (on the 8 BCCD
    /// samples, 2 images did), for five or more images together it practically never does.
    public static let imagesForThresholdCheck = 5

    /// The lowest probability of the file's detections when it is at least twice
    /// the model's floor (0.1) over at least `imagesForThresholdCheck` images
    /// with detections: the file was written with a threshold (`vision predict
    /// --min-prob 0.5`, the default), and COCO AP needs the low-scoring
    /// detections too. A model's unthresholded output (`--min-prob 0`) keeps up
    /// to 100 detections per image down to 0.05, most of them weak, so over a
    /// split it reaches below 0.1 and gets nil; so does a file without detections.
    public static func apparentScoreThreshold(_ lines: [PredictionLine]) -> Double? {
        let scored = lines.filter { !$0.objects.isEmpty }
        guard scored.count >= imagesForThresholdCheck,
              let lowest = scored.lazy.flatMap({ $0.objects.map(\.prob) }).min() else { return nil }
        return lowest >= 2 * modelScoreFloor ? lowest : nil
    }

    /// Pairs `lines` with `records` by basename, mapping labels through `classes`.
    /// When a file appears on several lines, the last one wins.
    public static func match(_ lines: [PredictionLine], records: [DetectionRecord], classes: [String]) -> MatchedPredictions {
        var byName: [String: PredictionLine] = [:]
        for line in lines { byName[PathText.lastComponent(line.file)] = line }
        var labelOf: [String: Int] = [:]
        for (i, name) in classes.enumerated() where labelOf[name] == nil { labelOf[name] = i + 1 }
        let recordNames = Set(records.map(\.fileName))
        var result = MatchedPredictions(images: [], imagesWithoutPredictions: [],
                                        unmatchedFiles: lines.map(\.file).filter { !recordNames.contains(PathText.lastComponent($0)) },
                                        unknownLabels: [:])
        for record in records {
            guard let line = byName[record.fileName] else {
                result.imagesWithoutPredictions.append(record.fileName)
                result.images.append(EvaluationImage(groundTruth: record, detections: []))
                continue
            }
            var detections: [ScoredDetection] = []
            for o in line.objects {
                guard let label = labelOf[o.label] else { result.unknownLabels[o.label, default: 0] += 1; continue }
                detections.append(ScoredDetection(box: BoundingBox(x1: o.bbox[0], y1: o.bbox[1], x2: o.bbox[2], y2: o.bbox[3]),
                                                  label: label, score: o.prob))
            }
            result.images.append(EvaluationImage(groundTruth: record, detections: detections))
        }
        return result
    }
}
