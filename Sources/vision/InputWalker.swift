// Turns predict's PATH arguments into the ordered list of images to process.
// Folders are walked recursively, entries sorted, so the order (and therefore
// --shard and --resume) is the same on every run and every machine.

import Foundation

/// One image or video to process.
struct InputImage: Sendable, Equatable {
    /// The path written in the output's "file": as given on the command line, or
    /// the folder argument joined with the path inside it.
    let file: String
    /// Where the annotated copy goes, relative to --save-media-to: the file name for
    /// a file argument, `<folder name>/<path inside the folder>` for a folder's images.
    let mediaPath: String

    /// Decoded as a video (through FFmpeg) rather than as an image: decided by the
    /// extension, for file arguments too (an image's content is sniffed, a video's is not).
    var isVideo: Bool { InputWalker.videoExtensions.contains((file as NSString).pathExtension.lowercased()) }
}

struct InputList {
    var images: [InputImage] = []
    /// Files met in folders that are neither images nor videos (hidden files included).
    var skippedFiles = 0
}

enum InputWalker {
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]
    /// The containers FFmpeg reads that people keep camera and screen videos in.
    static let videoExtensions: Set<String> = ["mp4", "mov", "mkv", "avi", "webm", "m4v"]

    /// An image or a video, by extension (any case); hidden files are neither.
    static func isMediaName(_ name: String) -> Bool {
        let ext = (name as NSString).pathExtension.lowercased()
        return !name.hasPrefix(".") && (imageExtensions.contains(ext) || videoExtensions.contains(ext))
    }

    /// Paths that do not exist, in argument order (each one an argument error).
    static func missing(_ paths: [String]) -> [String] {
        paths.filter { !FileManager.default.fileExists(atPath: $0) }
    }

    /// A file argument is taken whatever its extension (the image decoder sniffs
    /// the content; video extensions go to the video decoder); a folder contributes
    /// its images and videos in sorted order.
    static func collect(_ paths: [String]) -> InputList {
        var list = InputList()
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            guard isDirectory.boolValue else {
                list.images.append(InputImage(file: path, mediaPath: (path as NSString).lastPathComponent))
                continue
            }
            let root = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
            let rootName = (URL(fileURLWithPath: root).standardized.lastPathComponent)
            var relatives: [String] = []
            var visited: Set<String> = []
            walk(directory: root, relative: "", into: &relatives, skipped: &list.skippedFiles, visited: &visited)
            for relative in relatives {
                list.images.append(InputImage(file: root == "/" ? "/" + relative : root + "/" + relative,
                                              mediaPath: rootName + "/" + relative))
            }
        }
        return list
    }

    /// Depth-first, each folder's entries sorted by name; hidden folders are not
    /// entered, nor a folder already walked (a symbolic link loop).
    private static func walk(directory: String, relative: String, into out: inout [String], skipped: inout Int,
                             visited: inout Set<String>) {
        let fm = FileManager.default
        guard visited.insert(URL(fileURLWithPath: directory).resolvingSymlinksInPath().path).inserted,
              let names = try? fm.contentsOfDirectory(atPath: directory) else { return }
        for name in names.sorted() {
            let full = directory + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { skipped += 1; continue }
            if isDirectory.boolValue {
                if !name.hasPrefix(".") { walk(directory: full, relative: rel, into: &out, skipped: &skipped, visited: &visited) }
            } else if isMediaName(name) {
                out.append(rel)
            } else {
                skipped += 1
            }
        }
    }
}
