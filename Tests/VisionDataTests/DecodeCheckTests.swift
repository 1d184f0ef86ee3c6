import Foundation
import VisionCore
import VisionData
import XCTest

/// Issue 19, item 3: reading a dataset looks at image headers only (fast) and
/// reports files without one; `checkingImageDecoding()` decodes every image and
/// also finds a truncated JPEG whose header is intact.
final class DecodeCheckTests: XCTestCase {
    func testHeadersThenFullDecodeFindEveryBadImage() throws {
        let scratch = try ScratchDataset("decode")
        defer { scratch.remove() }
        let good = try Data(contentsOf: ScratchDataset.jpeg640x480)
        try scratch.write("JPEGImages/good.jpg", good)
        try scratch.write("JPEGImages/cut.jpg", good.prefix(good.count / 2))  // libjpeg: "Premature end of JPEG file"
        try scratch.write("JPEGImages/empty.jpg", Data())
        try scratch.write("JPEGImages/text.jpg", "not an image\n")
        for name in ["good", "cut", "empty", "text"] {
            try scratch.write("Annotations/\(name).xml", ScratchDataset.vocXML(filename: "\(name).jpg", size: (640, 480),
                                                                               objects: [("cell", [10, 10, 50, 50])]))
        }
        let headers = try DetectionDataset.load(from: scratch.root)
        XCTAssertEqual(try headers.records(split: "all").map(\.fileName), ["cut.jpg", "good.jpg"])
        XCTAssertEqual(headers.problems.map(\.kind), [.undecodableImage, .undecodableImage], "\(headers.problems)")
        XCTAssertEqual(Set(headers.problems.map { ($0.file as NSString).lastPathComponent }), ["empty.jpg", "text.jpg"])

        let decoded = headers.checkingImageDecoding(threads: KernelThreads(2))
        XCTAssertEqual(try decoded.records(split: "all").map(\.fileName), ["good.jpg"])
        let cut = try XCTUnwrap(decoded.problems.first { $0.file.hasSuffix("cut.jpg") })
        XCTAssertEqual(cut.kind, .undecodableImage)
        XCTAssertEqual(cut.file, scratch.url("JPEGImages/cut.jpg").path)
        XCTAssertTrue(cut.reason.contains("Premature end of JPEG file"), cut.reason)
        XCTAssertEqual(decoded.problems.count, 3)
        XCTAssertTrue(try decoded.inspectionReport().contains("problems: 3"))
    }
}
