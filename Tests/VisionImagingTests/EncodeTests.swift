import Foundation
import VisionImaging
import XCTest

final class EncodeTests: XCTestCase {
    private func sampleImage() throws -> RGBImage {
        try ImageDecoder.decode(contentsOf: Fixtures.url("decode/rgb8.png"))
    }

    func testPNGRoundTripIsExact() throws {
        let image = try sampleImage()
        let data = try image.encodePNG()
        XCTAssertEqual(ImageFormat.detect(data), .png)
        XCTAssertEqual(try ImageDecoder.decode(data: data, name: "roundtrip.png"), image)
    }

    /// The comment lands near the start of the file (where predict looks for its
    /// annotated-copy marker) and changes no pixel.
    func testCommentIsStoredBeforeThePixels() throws {
        let image = try sampleImage()
        let comment = "vision test comment \u{e9}"
        let marker = Data(comment.utf8)
        let png = try image.encodePNG(comment: comment)
        let pngAt = try XCTUnwrap(png.range(of: marker), "no comment in the PNG")
        XCTAssertLessThan(pngAt.lowerBound, try XCTUnwrap(png.range(of: Data("IDAT".utf8))).lowerBound)
        XCTAssertEqual(try ImageDecoder.decode(data: png, name: "comment.png"), image)
        XCTAssertNil(try image.encodePNG().range(of: marker))

        let jpeg = try image.encodeJPEG(quality: 90, comment: comment)
        let jpegAt = try XCTUnwrap(jpeg.range(of: marker), "no comment in the JPEG")
        XCTAssertEqual(Array(jpeg[(jpegAt.lowerBound - 4)..<(jpegAt.lowerBound - 2)]), [0xFF, 0xFE], "not in a COM marker")
        XCTAssertEqual(try ImageDecoder.decode(data: jpeg, name: "comment.jpg"),
                       try ImageDecoder.decode(data: try image.encodeJPEG(quality: 90), name: "plain.jpg"))
    }

    func testJPEGRoundTripIsClose() throws {
        // A smooth image so JPEG's loss stays small and the bound is meaningful.
        var image = RGBImage(width: 64, height: 48)
        for y in 0..<48 { for x in 0..<64 { image[x, y] = RGBColor(r: UInt8(x * 4), g: UInt8(y * 5), b: UInt8((x + y) * 2)) } }
        for quality in [75, 95] {
            let data = try image.encodeJPEG(quality: quality)
            XCTAssertEqual(ImageFormat.detect(data), .jpeg)
            let decoded = try ImageDecoder.decode(data: data, name: "roundtrip.jpg")
            XCTAssertEqual([decoded.width, decoded.height], [64, 48])
            let diffs = zip(decoded.pixels, image.pixels).map { abs(Int($0) - Int($1)) }
            let mean = Double(diffs.reduce(0, +)) / Double(diffs.count)
            print("JPEG q\(quality): \(data.count) bytes, max abs diff \(diffs.max()!), mean \(mean)")
            XCTAssertLessThan(mean, quality == 95 ? 1.5 : 3)
            XCTAssertLessThanOrEqual(diffs.max()!, quality == 95 ? 12 : 24)
        }
    }

    func testWriteChoosesFormatByExtension() throws {
        let image = try sampleImage()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-encode-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, format) in [("a.png", ImageFormat.png), ("b.JPG", .jpeg), ("c.jpeg", .jpeg)] {
            let url = folder.appendingPathComponent(name)
            try image.write(to: url)
            XCTAssertEqual(ImageFormat.detect(try Data(contentsOf: url)), format, name)
            XCTAssertEqual(try ImageDecoder.decode(contentsOf: url).width, image.width)
        }
        XCTAssertThrowsError(try image.write(to: folder.appendingPathComponent("d.gif"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("d.gif") && text.contains("'gif'"), text)
        }
        XCTAssertThrowsError(try image.write(to: URL(fileURLWithPath: "/nonexistent-dir/e.png"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-dir/e.png"), "\(error)")
        }
    }

    func testEncodingAnEmptyImageThrows() {
        XCTAssertThrowsError(try RGBImage(width: 0, height: 5).encodePNG(name: "empty.png")) { error in
            XCTAssertTrue("\(error)".hasPrefix("empty.png: PNG encoding failed"), "\(error)")
        }
    }

    func testTensorConversionsRoundTrip() throws {
        let image = try sampleImage()
        let tensor = image.toTensor()
        XCTAssertEqual(tensor.shape, [1, 3, image.height, image.width])
        let pixel = image[5, 7]
        let plane = image.width * image.height
        let index = 7 * image.width + 5
        XCTAssertEqual(tensor[flat: index], Float(pixel.r) / 255)
        XCTAssertEqual(tensor[flat: plane + index], Float(pixel.g) / 255)
        XCTAssertEqual(tensor[flat: 2 * plane + index], Float(pixel.b) / 255)
        XCTAssertEqual(RGBImage(tensor: tensor), image)
        XCTAssertEqual(RGBImage(tensor: tensor.reshaped([3, image.height, image.width])), image)
    }
}
