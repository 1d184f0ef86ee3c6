// What predict may write, decided before it writes anything: an output never
// replaces an input image (compared by file identity, so a symbolic link, a hard
// link or another spelling of the same path counts), and never replaces a file
// that vision did not write unless the user says --overwrite.

import Foundation
import VisionVideo

/// A file's identity on disk: two paths name the same file when these are equal.
struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64

    /// nil when nothing exists at `path` (a dangling link included).
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

enum OutputGuard {
    /// The text every annotated copy carries (JPEG COM marker, PNG tEXt chunk, MP4
    /// comment tag), so a later run can tell its own earlier copies from the user's files.
    static let annotatedCopyMarker = "vision predict: annotated copy"

    /// The identities of the input images that exist.
    static func identities(of inputs: [InputImage]) -> [FileIdentity: String] {
        var out: [FileIdentity: String] = [:]
        for input in inputs {
            if let id = FileIdentity(path: input.file), out[id] == nil { out[id] = input.file }
        }
        return out
    }

    /// Refuses an --output file that is an input image, or an existing file that is
    /// not JSON Lines from an earlier predict (unless `overwrite`).
    static func checkOutput(_ path: String, inputs: [FileIdentity: String], overwrite: Bool, resume: Bool) throws {
        guard let id = FileIdentity(path: path) else { return }
        if let input = inputs[id] {
            throw PredictError.output(path: path, reason: "--output is the input image \(input); refusing to overwrite it. "
                + "Write the JSON Lines elsewhere, e.g. -o predictions.jsonl")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw PredictError.output(path: path, reason: "--output is a folder; give a file name, e.g. -o \(path)/predictions.jsonl")
        }
        if !overwrite && !resume && !looksLikePredictions(path) {
            throw PredictError.output(path: path, reason: "exists and is not JSON Lines written by vision predict; "
                + "refusing to overwrite it (choose another -o file, or pass --overwrite)")
        }
    }

    /// Refuses when an annotated copy would land on an input image, or on an existing
    /// file vision did not write (unless `overwrite`). Checked for every planned copy
    /// before the first image is processed.
    static func checkMedia(_ plan: [(input: InputImage, url: URL)], folder: String, inputs: [FileIdentity: String],
                           overwrite: Bool) throws {
        for (input, url) in plan {
            guard let id = FileIdentity(path: url.path) else { continue }
            if let original = inputs[id] {
                throw PredictError.output(path: url.path, reason: "the annotated copy of \(input.file) would overwrite the input image "
                    + "\(original); refusing. Give -d a folder outside the inputs, e.g. -d annotated")
            }
            if !overwrite && !isAnnotatedCopy(url) {
                throw PredictError.output(path: url.path, reason: "exists and is not an annotated copy written by vision; refusing to "
                    + "overwrite it (give -d another folder than \(folder), or pass --overwrite)")
            }
        }
    }

    /// True when the file's first 64 KiB hold the annotated-copy marker (both image
    /// formats put it before the pixel data, and so does a short MP4, its moov first),
    /// or when the file is a video whose container comment tag is the marker (a long
    /// MP4's tag can sit past 64 KiB, after the sample tables).
    static func isAnnotatedCopy(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 64 * 1024) else { return false }
        if head.range(of: Data(annotatedCopyMarker.utf8)) != nil { return true }
        guard InputWalker.videoExtensions.contains(url.pathExtension.lowercased()) else { return false }
        return (try? VideoReader(path: url.path))?.info.comment == annotatedCopyMarker
    }

    /// An empty file, or one whose first line is a JSON object with a "file" string.
    static func looksLikePredictions(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 1 << 20), !head.isEmpty else { return true }
        let firstLine = head.prefix { $0 != UInt8(ascii: "\n") }
        guard let object = try? JSONSerialization.jsonObject(with: firstLine) as? [String: Any] else { return false }
        return object["file"] is String
    }
}
