// Counts for `vision dataset inspect`: images and boxes per class and split,
// image sizes, and the problems found while reading.

import Foundation

public struct SplitSummary: Sendable {
    public var split: String
    public var images: Int
    /// Images without any box.
    public var emptyImages: Int
    public var boxes: Int
    /// By class index (0-based): boxes of the class, and images holding at least one.
    public var boxesPerClass: [Int]
    public var imagesPerClass: [Int]
    /// Images that lost an object to a problem (`DetectionRecord.droppedObjects` > 0);
    /// training leaves them out rather than teach the lost objects as background.
    public var imagesWithDroppedObjects: Int
    public var difficultBoxes: Int
    public var crowdBoxes: Int
    /// Width x height extremes (by pixel count) and the most frequent size with its count.
    public var smallestSize: (width: Int, height: Int)?
    public var largestSize: (width: Int, height: Int)?
    public var commonestSize: (width: Int, height: Int, count: Int)?

    public init(split: String, records: [DetectionRecord], numClasses: Int) {
        self.split = split
        images = records.count
        emptyImages = records.filter { $0.boxes.isEmpty }.count
        boxes = records.reduce(0) { $0 + $1.boxes.count }
        boxesPerClass = [Int](repeating: 0, count: numClasses)
        imagesPerClass = boxesPerClass
        imagesWithDroppedObjects = records.filter { $0.droppedObjects > 0 }.count
        difficultBoxes = records.reduce(0) { $0 + $1.difficult.filter { $0 }.count }
        crowdBoxes = records.reduce(0) { $0 + $1.isCrowd.filter { $0 }.count }
        var sizeCounts: [Int: (Int, Int, Int)] = [:]
        for record in records {
            for label in record.labels where label >= 1 && label <= numClasses { boxesPerClass[label - 1] += 1 }
            for label in Set(record.labels) where label >= 1 && label <= numClasses { imagesPerClass[label - 1] += 1 }
            let key = record.width << 32 | record.height
            sizeCounts[key] = (record.width, record.height, (sizeCounts[key]?.2 ?? 0) + 1)
        }
        let sizes = sizeCounts.values.sorted { ($0.0 * $0.1, $0.0) < ($1.0 * $1.1, $1.0) }
        if let s = sizes.first { smallestSize = (s.0, s.1) }
        if let l = sizes.last { largestSize = (l.0, l.1) }
        if let c = sizes.max(by: { $0.2 < $1.2 }) { commonestSize = c }
    }
}

extension DetectionDataset {
    /// Summaries of `only` (or every split), in split order.
    public func summaries(only split: String? = nil) throws -> [SplitSummary] {
        try (split.map { [$0] } ?? splits).map { SplitSummary(split: $0, records: try records(split: $0), numClasses: classes.count) }
    }

    /// The text `vision dataset inspect` prints; at most `maxProblems` problems are listed.
    public func inspectionReport(split: String? = nil, maxProblems: Int = 20) throws -> String {
        let summaries = try summaries(only: split)
        var out = ["dataset: \(root.path)", "format:  \(format.rawValue)",
                   "classes: \(classes.count) (\(classes.joined(separator: ", ")))",
                   "splits:  \(splits.joined(separator: ", "))"]
        out += notes.map { "note:    \($0)" }
        out.append("")
        let nameWidth = max(12, (classes.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        var header = pad("class", nameWidth)
        for s in summaries { header += lpad("\(s.split) img", 14) + lpad("\(s.split) box", 14) }
        out.append(header)
        for (k, name) in classes.enumerated() {
            var row = pad(name, nameWidth)
            for s in summaries { row += lpad(String(s.imagesPerClass[k]), 14) + lpad(String(s.boxesPerClass[k]), 14) }
            out.append(row)
        }
        var total = pad("total", nameWidth)
        for s in summaries { total += lpad(String(s.images), 14) + lpad(String(s.boxes), 14) }
        out.append(total)
        out.append("")
        for s in summaries {
            var line = "\(s.split): \(s.images) images (\(s.emptyImages) without boxes), \(s.boxes) boxes"
            if s.difficultBoxes > 0 { line += ", \(s.difficultBoxes) difficult" }
            if s.crowdBoxes > 0 { line += ", \(s.crowdBoxes) crowd" }
            if s.imagesWithDroppedObjects > 0 {
                line += "; \(s.imagesWithDroppedObjects) image(s) lost an object to a problem (training leaves them out)"
            }
            out.append(line)
            if let lo = s.smallestSize, let hi = s.largestSize, let common = s.commonestSize {
                out.append("  image sizes (w x h): min \(lo.width)x\(lo.height), max \(hi.width)x\(hi.height), "
                           + "most common \(common.width)x\(common.height) (\(common.count) images)")
            }
        }
        out.append("")
        out.append("problems: \(problems.count)")
        for problem in problems.prefix(maxProblems) { out.append("  \(problem)") }
        if problems.count > maxProblems { out.append("  ... and \(problems.count - maxProblems) more") }
        return out.joined(separator: "\n")
    }
}
