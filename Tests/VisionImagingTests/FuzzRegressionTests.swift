// Inputs Tests/Fuzz found (kept in Tests/Fixtures/fuzz), and the one-line
// message contract for names holding line breaks.

import Foundation
import VisionImaging
import XCTest

final class FuzzRegressionTests: XCTestCase {
    func testOversizedTextChunkIsRefusedBeforeItIsAllocated() throws {
        // 64 bytes: a 25x13 PNG whose tEXt chunk declares 1,152,270,944 bytes. libpng
        // used to malloc that much before finding the data missing (png_set_chunk_malloc_max
        // does not stop it); now chunk lengths are checked against the file first.
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/fuzz/png_1gb_text_chunk.png")
        let start = Date()
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url)) { error in
            let text = (error as? ImageError)?.description ?? "\(error)"
            XCTAssertEqual(text, url.path + ": truncated PNG data (chunk tEXt declares 1152270944 bytes, 23 left)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.1)
    }

    func testTallProgressiveImageIsTurnedUprightQuickly() throws {
        // 579 bytes: a progressive 40x65496 JPEG (2.6 MP of corrupt scans) with EXIF
        // orientation 3. Its per-pixel orientation switch took over a second under the
        // fuzzer; the transform is now affine offsets without a branch per pixel.
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/fuzz/jpeg_tall_progressive_rotate180.jpg")
        let stored = try ImageDecoder.decode(contentsOf: url, applyExifOrientation: false)
        let start = Date()
        let upright = try ImageDecoder.decode(contentsOf: url)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertEqual([stored.width, stored.height, upright.width, upright.height], [40, 65496, 40, 65496])
        // Rotated 180 degrees: pixel (x, y) upright is pixel (w-1-x, h-1-y) stored.
        // (The sampled pixels differ from each other, so a wrong mapping shows.)
        let samples = [(0, 0), (39, 0), (7, 12345), (20, 40000), (39, 65495), (0, 65495)]
        let colors = Set(samples.map { x, y in Array(stored.pixels[((y * 40 + x) * 3)..<((y * 40 + x) * 3 + 3)]) })
        XCTAssertGreaterThan(colors.count, 2, "the sampled pixels should not be uniform")
        for (x, y) in samples {
            let u = (y * 40 + x) * 3, s = ((65495 - y) * 40 + (39 - x)) * 3
            XCTAssertEqual(Array(upright.pixels[u..<u + 3]), Array(stored.pixels[s..<s + 3]), "pixel (\(x), \(y))")
        }
    }

    func testNamesWithLineBreaksStayOnOneLine() {
        // serve passes the uploaded file name through; a name may hold a line feed.
        XCTAssertThrowsError(try ImageDecoder.decode(data: Data([1, 2, 3]), name: "evil\nname.jpg")) { error in
            XCTAssertEqual("\(error)", "evil\\nname.jpg: not a JPEG or PNG image")
        }
    }
}
