import Foundation
import VisionImaging
import XCTest

final class DecodeTests: XCTestCase {
    /// Every PNG must match exactly. JPEGs must match exactly as well: Pillow's
    /// bundled libjpeg-turbo 3.2 and Debian's libjpeg-turbo 2.1.5 use the same
    /// ISLOW IDCT, fancy upsampling and colour conversion, and the generator
    /// run showed Debian's djpeg output bit-identical to Pillow's on every
    /// sample photo, so no tolerance is needed.
    func testEveryGoodFixtureDecodesToPillowsPixels() throws {
        let cases = try Fixtures.json([DecodeCase].self, "decode.json")
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        for item in cases {
            let image = try ImageDecoder.decode(contentsOf: Fixtures.url("decode/\(item.file)"))
            XCTAssertEqual(image.width, item.width, item.file)
            XCTAssertEqual(image.height, item.height, item.file)
            let expected = try Fixtures.bytes("decode/\(item.expected)")
            var maxDifference = 0
            for (a, b) in zip(image.pixels, expected) { maxDifference = max(maxDifference, abs(Int(a) - Int(b))) }
            print("decode \(item.file) (\(item.note)): \(image.width)x\(image.height), max abs diff \(maxDifference)")
            XCTAssertEqual(image.pixels.count, expected.count, item.file)
            XCTAssertEqual(maxDifference, 0, "\(item.file): \(item.note)")
        }
    }

    func testSamplePhotosMatchPillowReference() throws {
        let references = try Fixtures.json([PhotoReference].self, "photos.json")
        XCTAssertFalse(references.isEmpty)
        for reference in references {
            let start = Date()
            let image = try ImageDecoder.decode(contentsOf: Fixtures.photos.appendingPathComponent(reference.file))
            let seconds = Date().timeIntervalSince(start)
            XCTAssertEqual(image.width, reference.width, reference.file)
            XCTAssertEqual(image.height, reference.height, reference.file)
            var sums = [Double](repeating: 0, count: 3)
            for i in 0..<image.width * image.height {
                for c in 0..<3 { sums[c] += Double(image.pixels[i * 3 + c]) }
            }
            let means = sums.map { $0 / Double(image.width * image.height) }
            let meanDifference = zip(means, reference.mean).map { abs($0 - $1) }.max()!
            var sampleDifference = 0
            for sample in reference.samples {
                let pixel = image[sample[0], sample[1]]
                let diffs = [Int(pixel.r) - sample[2], Int(pixel.g) - sample[3], Int(pixel.b) - sample[4]]
                sampleDifference = max(sampleDifference, diffs.map(abs).max()!)
            }
            print("photo \(reference.file) \(image.width)x\(image.height): decode \(String(format: "%.1f", seconds * 1000)) ms, "
                  + "mean diff \(meanDifference), max sample diff \(sampleDifference) over \(reference.samples.count) samples")
            XCTAssertLessThan(meanDifference, 1e-9, reference.file)
            XCTAssertEqual(sampleDifference, 0, reference.file)
        }
    }

    private func assertRejects(_ file: String, mentioning fragments: [String],
                               line: UInt = #line) {
        let url = Fixtures.url("bad/\(file)")
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url), file, line: line) { error in
            guard let imageError = error as? ImageError else {
                return XCTFail("\(file): expected ImageError, got \(error)", line: line)
            }
            let text = imageError.description
            print("rejected: \(text)")
            XCTAssertTrue(text.contains(file), "message must name the file: \(text)", line: line)
            for fragment in fragments {
                XCTAssertTrue(text.contains(fragment), "'\(fragment)' missing from: \(text)", line: line)
            }
        }
    }

    func testBadFilesThrowNamedErrors() {
        assertRejects("truncated.jpg", mentioning: ["truncated JPEG data"])
        assertRejects("truncated_progressive.jpg", mentioning: ["truncated JPEG data"])
        assertRejects("truncated.png", mentioning: ["truncated PNG data"])
        assertRejects("empty.png", mentioning: ["empty file"])
        assertRejects("text.jpg", mentioning: ["not a JPEG or PNG image"])
        assertRejects("bad_crc.png", mentioning: ["corrupt PNG data", "CRC"])
        assertRejects("missing.png", mentioning: ["cannot read file"])
    }

    func testDecompressionBombsAreRefusedFromTheHeader() throws {
        for file in ["bomb.jpg", "bomb.png"] {
            let rssBefore = peakResidentKilobytes()
            let start = Date()
            XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: Fixtures.url("bad/\(file)"))) { error in
                guard let imageError = error as? ImageError else { return XCTFail("\(error)") }
                XCTAssertEqual(imageError.reason, .tooLarge(width: 30000, height: 30000,
                                                            limit: ImageDecoder.defaultMaxPixels))
                XCTAssertTrue(imageError.description.contains("\(file): 30000x30000 pixels exceeds the limit of 100000000"),
                              imageError.description)
                print("rejected: \(imageError)")
            }
            let milliseconds = Date().timeIntervalSince(start) * 1000
            let growth = peakResidentKilobytes() - rssBefore
            print("\(file): refused in \(String(format: "%.2f", milliseconds)) ms, peak RSS growth \(growth) KiB")
            // 30000x30000 RGB would be 2.7 GB; refusing from the header costs nothing.
            XCTAssertLessThan(milliseconds, 200)
            XCTAssertLessThan(growth, 50_000)
        }
    }

    func testPixelLimitIsInclusive() throws {
        let url = Fixtures.url("decode/baseline.jpg")  // 40x30 = 1200 pixels
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: url, maxPixels: 1200).width, 40)
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url, maxPixels: 1199)) { error in
            XCTAssertEqual((error as? ImageError)?.reason, .tooLarge(width: 40, height: 30, limit: 1199))
        }
        let png = Fixtures.url("decode/rgb8.png")  // 37x23 = 851 pixels
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: png, maxPixels: 850))
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: png, maxPixels: 851).height, 23)
    }

    func testInMemoryDecodeUsesTheGivenNameAndDetectsFormatBySignature() throws {
        let pngBytes = try Data(contentsOf: Fixtures.url("decode/rgb8.png"))
        let image = try ImageDecoder.decode(data: pngBytes, name: "looks-like.jpg")
        XCTAssertEqual(image.width, 37)
        XCTAssertEqual(ImageFormat.detect(pngBytes), .png)
        XCTAssertEqual(ImageFormat.detect(try Data(contentsOf: Fixtures.url("decode/baseline.jpg"))), .jpeg)
        XCTAssertNil(ImageFormat.detect([UInt8]([0xFF, 0xD8])))
        XCTAssertThrowsError(try ImageDecoder.decode(data: pngBytes.prefix(40), name: "cut.png")) { error in
            XCTAssertEqual((error as? ImageError)?.description.hasPrefix("cut.png: truncated PNG data"), true, "\(error)")
        }
    }

    func testManyFailuresInARowLeakNothingAndKeepTheProcessAlive() throws {
        let truncated = try Data(contentsOf: Fixtures.url("bad/truncated.jpg"))
        let corrupt = try Data(contentsOf: Fixtures.url("bad/bad_crc.png"))
        let rssBefore = currentResidentKilobytes()
        for _ in 0..<2000 {
            XCTAssertThrowsError(try ImageDecoder.decode(data: truncated, name: "t.jpg"))
            XCTAssertThrowsError(try ImageDecoder.decode(data: corrupt, name: "c.png"))
        }
        let growth = currentResidentKilobytes() - rssBefore
        print("4000 failed decodes: resident memory growth \(growth) KiB")
        XCTAssertLessThan(growth, 20_000)
    }
}

/// Peak resident set size of this process in KiB (getrusage).
func peakResidentKilobytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Int(usage.ru_maxrss)
}

/// Current resident set size in KiB, from /proc/self/statm (Linux).
func currentResidentKilobytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}
