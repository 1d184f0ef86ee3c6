// What a training run makes of its dataset's problems. An image that lost objects to a
// problem (a box past the edge, an unknown class, a size that contradicts the image...)
// is left out of training: kept, its lost objects would be taught as background. The
// summary (counts per kind, the first problems) is printed before the first step and
// written to the run folder as dataset_problems.txt, the counts also to metrics.jsonl.

import Foundation
import VisionData

public struct TrainingDataReport: Sendable {
    public static let fileName = "dataset_problems.txt"
    /// Problems listed in the printed summary (the file lists them all).
    public static let printedProblems = 5

    /// The images to train on.
    public let records: [DetectionRecord]
    /// Images of the split left out because objects of theirs were dropped.
    public let leftOut: [DetectionRecord]
    /// Every problem found reading the dataset.
    public let problems: [DatasetProblem]

    /// Splits `records` into those to train on and those left out.
    public init(records: [DetectionRecord], problems: [DatasetProblem]) {
        self.records = records.filter { $0.droppedObjects == 0 }
        self.leftOut = records.filter { $0.droppedObjects > 0 }
        self.problems = problems
    }

    /// Problem counts by kind (the kind's name), for metrics.jsonl.
    public var countsByKind: [String: Int] {
        var counts: [String: Int] = [:]
        for problem in problems { counts[problem.kind.rawValue, default: 0] += 1 }
        return counts
    }

    /// "3 dataset problems (box out of bounds 2, size mismatch 1); 2 images left out
    /// of training (objects of theirs were dropped)" and the first problems, one a line;
    /// nothing when the dataset had no problem.
    public func summary(listing limit: Int = printedProblems) -> [String] {
        guard !problems.isEmpty || !leftOut.isEmpty else { return [] }
        let kinds = DatasetProblem.Kind.allCases.compactMap { kind -> String? in
            let n = problems.filter { $0.kind == kind }.count
            return n == 0 ? nil : "\(kind.rawValue) \(n)"
        }
        var lines = ["\(problems.count) dataset problem\(problems.count == 1 ? "" : "s") (\(kinds.joined(separator: ", "))); "
            + "\(leftOut.count) image\(leftOut.count == 1 ? "" : "s") left out of training (objects of theirs were dropped), "
            + "\(records.count) trained on"]
        lines += problems.prefix(limit).map { "  \($0)" }
        if problems.count > limit { lines.append("  ... and \(problems.count - limit) more in \(Self.fileName)") }
        return lines
    }

    /// Writes the summary, every problem and every left-out image to
    /// `<directory>/dataset_problems.txt` (nothing, and no file, when there is no problem).
    public func write(to directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        guard !problems.isEmpty || !leftOut.isEmpty else {
            try? FileManager.default.removeItem(at: url)
            return
        }
        var lines = Array(summary(listing: 0).prefix(1))
        lines.append("problems:")
        lines += problems.map { "  \($0)" }
        lines.append("left out of training:")
        lines += leftOut.map { "  \($0.imageURL.path) (\($0.droppedObjects) object\($0.droppedObjects == 1 ? "" : "s") dropped)" }
        do {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
        } catch {
            throw TrainingModelError("\(url.path): cannot write: \(error.localizedDescription)")
        }
    }

    /// The metrics.jsonl line of a run (or resumed part of one) starting at `globalStep`.
    public func metrics(globalStep: Int) -> DatasetMetrics {
        DatasetMetrics(globalStep: globalStep, images: records.count, leftOutImages: leftOut.count, problems: countsByKind)
    }
}
