import Foundation
import XCTest

/// A dataset written to a temporary folder by a test: real image files copied
/// from the repository, annotation files written as text.
struct ScratchDataset {
    let root: URL

    /// 40x30 baseline JPEG.
    static let jpeg40x30 = Fixtures.root.appendingPathComponent("images/decode/baseline.jpg")
    /// 37x23 PNG.
    static let png37x23 = Fixtures.root.appendingPathComponent("images/decode/rgb8.png")
    /// Stored 13x9 with EXIF orientation 6 (rotate 90° clockwise): displayed 9x13.
    static let rotatedJPEG9x13 = Fixtures.root.appendingPathComponent("images/decode/exif_orientation6.jpg")
    /// A 640x480 BCCD photo.
    static let jpeg640x480 = Fixtures.repoRoot.appendingPathComponent("Samples/bccd/JPEGImages/BloodImage_00007.jpg")

    init(_ name: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("vision-data-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    func copy(_ source: URL, to relative: String) throws {
        let destination = url(relative)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: destination)
    }

    func write(_ relative: String, _ text: String) throws {
        try write(relative, Data(text.utf8))
    }

    func write(_ relative: String, _ data: Data) throws {
        let destination = url(relative)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: destination)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// A Pascal VOC annotation; `size` nil leaves out <size>.
    static func vocXML(filename: String, size: (Int, Int)?, objects: [(String, [Double])], path: String? = nil) -> String {
        var xml = "<annotation>\n  <folder>images</folder>\n  <filename>\(filename)</filename>\n"
        if let path { xml += "  <path>\(path)</path>\n" }
        if let (w, h) = size { xml += "  <size><width>\(w)</width><height>\(h)</height><depth>3</depth></size>\n" }
        for (name, b) in objects {
            xml += "  <object><name>\(name)</name><difficult>0</difficult>"
                + "<bndbox><xmin>\(b[0])</xmin><ymin>\(b[1])</ymin><xmax>\(b[2])</xmax><ymax>\(b[3])</ymax></bndbox></object>\n"
        }
        return xml + "</annotation>\n"
    }
}
