// Choosing the folder a new training run writes to. A folder that holds a run (any of
// the files a run writes) is never reused without `--resume` or `--overwrite`: starting
// over in it would truncate its metrics.jsonl and replace its checkpoints. The folder is
// claimed by creating its metrics.jsonl exclusively (O_EXCL), so two runs started at
// the same moment with the same default folder cannot both take it.

import Foundation
import Glibc

public enum RunFolder {
    /// The files a training run writes into its folder.
    public static let runFiles = [TrainingCheckpoint.fileName, TrainingCheckpoint.modelFileName, TrainingCheckpoint.bestFileName, "metrics.jsonl",
                                  LossCurvePlot.fileName, TrainingDataReport.fileName, TrainingReport.fileName]

    /// The run files already in `directory`, sorted (empty when it holds no run).
    public static func existingRunFiles(in directory: URL) -> [String] {
        runFiles.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }.sorted()
    }

    public struct Occupied: Error, CustomStringConvertible {
        public let directory: URL
        public let files: [String]
        public var description: String {
            "\(directory.path) holds a run (\(files.joined(separator: ", "))); continue it with "
                + "`vision train --resume \(directory.path)`, start over in it with --overwrite, or choose another -o"
        }
    }

    /// Claims `directory` for a new run: creates it and an empty metrics.jsonl, unless
    /// it holds a run. With `overwrite`, a run there is replaced (its metrics.jsonl is
    /// emptied when the new run starts and its checkpoints at its first save).
    public static func claim(_ directory: URL, overwrite: Bool) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if overwrite {
            // The replaced run's best epoch must not pass for the new run's (which may never write one).
            let best = directory.appendingPathComponent(TrainingCheckpoint.bestFileName)
            if FileManager.default.fileExists(atPath: best.path) { try FileManager.default.removeItem(at: best) }
            return
        }
        let existing = existingRunFiles(in: directory)
        guard existing.isEmpty else { throw Occupied(directory: directory, files: existing) }
        let metrics = directory.appendingPathComponent("metrics.jsonl").path
        let fd = open(metrics, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd < 0 {
            if errno == EEXIST { throw Occupied(directory: directory, files: existingRunFiles(in: directory)) }
            throw TrainingModelError("\(metrics): cannot create: \(String(cString: strerror(errno)))")
        }
        close(fd)
    }

    /// Claims the first of `base`, `base2`, `base3`, ... that holds no run (the default
    /// output, so that two plain `vision train` runs never write into one folder);
    /// returns its path, spelled as `base` is (relative paths stay relative).
    public static func claimNextFree(base: String) throws -> String {
        for n in 1...10_000 {
            let candidate = n == 1 ? base : base + String(n)
            do {
                try claim(URL(fileURLWithPath: candidate), overwrite: false)
                return candidate
            } catch is Occupied {
                continue
            }
        }
        throw TrainingModelError("\(base): every run folder up to \(base)10000 holds a run; pass -o")
    }

    /// Undoes a claim whose run failed before it started: removes the metrics.jsonl the
    /// claim created while it is still empty (the folder then holds no run again).
    public static func release(_ directory: URL) {
        let metrics = directory.appendingPathComponent("metrics.jsonl")
        if let size = (try? FileManager.default.attributesOfItem(atPath: metrics.path))?[.size] as? NSNumber, size.intValue == 0 {
            try? FileManager.default.removeItem(at: metrics)
        }
    }
}
