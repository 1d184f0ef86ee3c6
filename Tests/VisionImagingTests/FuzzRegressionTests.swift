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

    func testNamesWithLineBreaksStayOnOneLine() {
        // serve passes the uploaded file name through; a name may hold a line feed.
        XCTAssertThrowsError(try ImageDecoder.decode(data: Data([1, 2, 3]), name: "evil\nname.jpg")) { error in
            XCTAssertEqual("\(error)", "evil\\nname.jpg: not a JPEG or PNG image")
        }
    }
}
