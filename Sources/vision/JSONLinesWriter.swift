// predict's output: one JSON object per line, written by hand so the key order is
// fixed ("file", then "objects" or "error", or for a video frame "frame", "time",
// "objects"; in objects bbox, label, label_id, prob)
// and floats use Swift's shortest round-trip form. Every line goes out in one
// write(2) call, so a killed run loses at most the line being written.

import Foundation
import VisionCore
import VisionDetection

enum JSONLines {
    static func line(file: String, objects: [DetectedObject]) -> String {
        "{\"file\": " + jsonStringLiteral(file) + ", \"objects\": " + array(objects) + "}"
    }

    /// One video frame: its 0-based index in decode output order and its time in seconds.
    static func line(file: String, frame: Int, time: Double, objects: [DetectedObject]) -> String {
        "{\"file\": " + jsonStringLiteral(file) + ", \"frame\": \(frame), \"time\": " + (time.isFinite ? "\(time)" : "null")
            + ", \"objects\": " + array(objects) + "}"
    }

    private static func array(_ objects: [DetectedObject]) -> String {
        var s = "["
        for (i, o) in objects.enumerated() {
            if i > 0 { s += ", " }
            s += "{\"bbox\": [" + o.bbox.map(number).joined(separator: ", ") + "], \"label\": " + jsonStringLiteral(o.label)
            s += ", \"label_id\": \(o.labelId), \"prob\": " + number(o.prob) + "}"
        }
        return s + "]"
    }

    static func line(file: String, error: String) -> String {
        "{\"file\": " + jsonStringLiteral(file) + ", \"error\": " + jsonStringLiteral(error) + "}"
    }

    /// Shortest round-trip decimal; JSON has no NaN or infinity, so those are null.
    static func number(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
}

/// Appends lines to a file (or standard output), one write per line.
final class JSONLinesWriter {
    private let handle: FileHandle
    private let ownsHandle: Bool

    /// Standard output.
    init() {
        handle = FileHandle.standardOutput
        ownsHandle = false
    }

    /// `path`, truncated to `keepBytes` bytes (0: a new, empty file).
    init(path: String, keepBytes: UInt64) throws {
        let fm = FileManager.default
        // -o a/b/out.jsonl creates a/b as -d creates its folder.
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw PredictError.output(path: path, reason: "cannot create the folder \(folder.path) (\(error.localizedDescription))")
        }
        if keepBytes == 0 || !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else {
                throw PredictError.output(path: path, reason: "cannot create the file")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: keepBytes)
            try handle.seekToEnd()
        } catch {
            throw PredictError.output(path: path, reason: error.localizedDescription)
        }
        ownsHandle = true
    }

    func write(_ line: String) throws {
        do {
            try handle.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw PredictError.output(path: ownsHandle ? "output file" : "standard output", reason: error.localizedDescription)
        }
    }

    deinit { if ownsHandle { try? handle.close() } }
}

/// What an earlier run already wrote, for --resume.
struct ResumeState {
    /// The "file" values of complete, parseable lines without a "frame": images, and
    /// videos that ended (an error line closes a video).
    var done: Set<String> = []
    /// Per video, the frames of complete lines with a "frame".
    var doneFrames: [String: Set<Int>] = [:]
    /// Per video and frame, the objects recorded (read only when asked: the
    /// annotated video is re-encoded whole, done frames drawn from these).
    var recordedObjects: [String: [Int: [DetectedObject]]] = [:]
    /// Bytes up to the end of the last good line: what is kept before appending.
    var keepBytes: UInt64 = 0
    /// A truncated or unparseable last line that will be rewritten.
    var droppedPartialLine = false

    /// Reads `path`; a missing file is an empty state. Stops at the first line that
    /// is not a complete JSON object with a "file" string (a run killed mid-write).
    static func read(path: String, keepObjects: Bool = false) throws -> ResumeState {
        var state = ResumeState()
        guard FileManager.default.fileExists(atPath: path) else { return state }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw PredictError.output(path: path, reason: "cannot read it to resume (\(error.localizedDescription))")
        }
        var start = data.startIndex
        while start < data.endIndex {
            guard let newline = data[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                state.droppedPartialLine = true
                break
            }
            let lineData = data[start..<newline]
            if !lineData.isEmpty {
                guard let object = try? JSONSerialization.jsonObject(with: lineData) as? [String: Any],
                      let file = object["file"] as? String else {
                    state.droppedPartialLine = true
                    break
                }
                if let frame = object["frame"] as? Int {
                    state.doneFrames[file, default: []].insert(frame)
                    if keepObjects { state.recordedObjects[file, default: [:]][frame] = objects(in: object) }
                } else {
                    state.done.insert(file)
                }
            }
            start = newline + 1
            state.keepBytes = UInt64(start - data.startIndex)
        }
        return state
    }

    /// The "objects" of a parsed line (what JSONLines.array wrote).
    private static func objects(in line: [String: Any]) -> [DetectedObject] {
        (line["objects"] as? [[String: Any]] ?? []).compactMap { o in
            guard let bbox = o["bbox"] as? [Double], bbox.count == 4, let label = o["label"] as? String,
                  let labelId = o["label_id"] as? Int, let prob = o["prob"] as? Double else { return nil }
            return DetectedObject(bbox: bbox.map { Float($0) }, label: label, labelId: labelId, prob: Float(prob))
        }
    }
}
