import Foundation
import VisionCore
import VisionImaging
import XCTest

final class ExifOrientationTests: XCTestCase {
    /// A minimal TIFF: header, IFD0 with one entry (tag, type SHORT, count 1, value).
    private func tiff(orientation: UInt16, littleEndian: Bool, tag: UInt16 = 0x0112) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { littleEndian ? [UInt8(v & 0xFF), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 0xFF)] }
        func u32(_ v: UInt32) -> [UInt8] {
            let bytes = [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            return littleEndian ? bytes.reversed() : bytes
        }
        return (littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]) + u16(42) + u32(8)
            + u16(1) + u16(tag) + u16(3) + u32(1) + u16(orientation) + u16(0) + u32(0)
    }

    func testParsesBothByteOrders() {
        for value in 1...8 {
            XCTAssertEqual(ExifOrientation(tiff: tiff(orientation: UInt16(value), littleEndian: true))?.rawValue, value)
            XCTAssertEqual(ExifOrientation(tiff: tiff(orientation: UInt16(value), littleEndian: false))?.rawValue, value)
        }
        XCTAssertNil(ExifOrientation(tiff: tiff(orientation: 9, littleEndian: true)))
        XCTAssertNil(ExifOrientation(tiff: tiff(orientation: 0, littleEndian: false)))
        XCTAssertNil(ExifOrientation(tiff: tiff(orientation: 6, littleEndian: true, tag: 0x0110)))
    }

    func testSurvivesGarbageAndTruncation() {
        let valid = tiff(orientation: 6, littleEndian: false)
        for cut in 0..<valid.count {
            // Any prefix short of the value field must be rejected, never crash.
            let parsed = ExifOrientation(tiff: Array(valid.prefix(cut)))
            XCTAssertTrue(parsed == nil || cut >= 20, "prefix \(cut)")
        }
        // Random payloads and randomly mutated valid ones (fixed seed, SplitMix64).
        var generator = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        func next() -> UInt64 { generator.next() }
        var accepted = 0
        for trial in 0..<20_000 {
            var bytes: [UInt8]
            if trial % 2 == 0 {
                bytes = (0..<Int(next() % 64)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                bytes = tiff(orientation: UInt16(next() % 10), littleEndian: next() % 2 == 0)
                for _ in 0..<Int(next() % 3 + 1) { bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next()) }
                bytes = Array(bytes.prefix(Int(next() % UInt64(bytes.count + 1))))
            }
            if let orientation = ExifOrientation(tiff: bytes) {
                accepted += 1
                XCTAssertTrue((1...8).contains(orientation.rawValue))
            }
        }
        print("random TIFF payloads accepted: \(accepted) of 20000")
        // A slice whose indices do not start at zero works too.
        let padded = [0, 0, 0] + valid
        XCTAssertEqual(ExifOrientation(tiff: padded[3...]), .rotate90Clockwise)
    }

    func testOrientationsMoveCornersLikePillow() {
        // 3x2 image with distinct pixels: value = x + 10*y in the red channel.
        var image = RGBImage(width: 3, height: 2)
        for y in 0..<2 { for x in 0..<3 { image[x, y] = RGBColor(r: UInt8(x + 10 * y), g: 0, b: 0) } }
        func reds(_ o: ExifOrientation) -> [[UInt8]] {
            let out = o.apply(to: image)
            return (0..<out.height).map { y in (0..<out.width).map { x in out[x, y].r } }
        }
        XCTAssertEqual(reds(.upright), [[0, 1, 2], [10, 11, 12]])
        XCTAssertEqual(reds(.mirrorHorizontal), [[2, 1, 0], [12, 11, 10]])
        XCTAssertEqual(reds(.rotate180), [[12, 11, 10], [2, 1, 0]])
        XCTAssertEqual(reds(.mirrorVertical), [[10, 11, 12], [0, 1, 2]])
        XCTAssertEqual(reds(.transpose), [[0, 10], [1, 11], [2, 12]])
        XCTAssertEqual(reds(.rotate90Clockwise), [[10, 0], [11, 1], [12, 2]])
        XCTAssertEqual(reds(.transverse), [[12, 2], [11, 1], [10, 0]])
        XCTAssertEqual(reds(.rotate90CounterClockwise), [[2, 12], [1, 11], [0, 10]])
    }

    func testOrientationCanBeLeftUnapplied() throws {
        let url = Fixtures.url("decode/exif_orientation6.jpg")
        let oriented = try ImageDecoder.decode(contentsOf: url)
        let stored = try ImageDecoder.decode(contentsOf: url, applyExifOrientation: false)
        XCTAssertEqual([oriented.width, oriented.height], [9, 13])
        XCTAssertEqual([stored.width, stored.height], [13, 9])
        XCTAssertEqual(ExifOrientation.rotate90Clockwise.apply(to: stored), oriented)
    }
}
