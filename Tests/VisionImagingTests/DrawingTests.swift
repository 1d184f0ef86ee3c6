import Foundation
import VisionImaging
import XCTest

final class DrawingTests: XCTestCase {
    private let background = RGBColor(r: 10, g: 20, b: 30)

    func testBoxOutlineHasClassColourAndCaptionHasText() {
        var image = RGBImage(width: 200, height: 150, color: background)
        let box = DetectionBox(x1: 40, y1: 50, x2: 120, y2: 110, label: "dog", classId: 18, score: 0.876)
        XCTAssertEqual(box.caption, "dog 0.88")
        var annotated = box
        annotated.showsScore = false
        XCTAssertEqual(annotated.caption, "dog", "a ground-truth box has no score to show")
        let style = DetectionDrawingStyle(lineWidth: 2, fontScale: 1)
        drawDetections(on: &image, boxes: [box], style: style)
        let color = DetectionPalette.color(forClass: 18)
        XCTAssertNotEqual(color, background)
        // Outline: 2 px on each side of the pixel rectangle [40, 119] x [50, 109].
        for (x, y) in [(40, 80), (41, 80), (119, 80), (118, 80), (80, 50), (80, 51), (80, 109), (80, 108), (40, 109), (119, 50)] {
            XCTAssertEqual(image[x, y], color, "outline pixel (\(x), \(y))")
        }
        for (x, y) in [(42, 80), (117, 80), (80, 52), (80, 107), (80, 80), (39, 80), (120, 80), (80, 110)] {
            XCTAssertEqual(image[x, y], background, "pixel (\(x), \(y)) must stay background")
        }
        // Caption band: 8 + 2 px tall, directly above the box.
        let (textWidth, textHeight) = RGBImage.textSize(box.caption, scale: 1)
        XCTAssertEqual(textWidth, 8 * 6 - 1)
        var counts: [RGBColor: Int] = [:]
        for y in (50 - textHeight - 2)..<50 { for x in 40..<(40 + textWidth + 2) { counts[image[x, y], default: 0] += 1 } }
        let textColor = DetectionPalette.textColor(on: color)
        print("caption band colours: \(counts.count), text pixels \(counts[textColor] ?? 0)")
        XCTAssertNil(counts[background], "the caption band is filled")
        XCTAssertGreaterThan(counts[textColor] ?? 0, 40, "the caption has glyph pixels")
        XCTAssertEqual(image[40 + textWidth + 3, 45], background, "nothing right of the caption band")
    }

    func testCaptionGoesInsideWhenNoRoomAboveAndEverythingClips() {
        var image = RGBImage(width: 60, height: 40, color: background)
        let boxes = [
            DetectionBox(x1: 5, y1: 0, x2: 50, y2: 30, label: "person", classId: 1, score: 0.5),
            DetectionBox(x1: -30, y1: 20, x2: 500, y2: 900, label: "Kite!", classId: 38, score: 1),
            DetectionBox(x1: .nan, y1: 0, x2: 10, y2: 10, label: "nan", classId: 2, score: 0.9),
            DetectionBox(x1: 1e30, y1: -1e30, x2: .infinity, y2: 3, label: "huge", classId: 3, score: 0.9),
            DetectionBox(x1: 100, y1: 100, x2: 120, y2: 120, label: "outside", classId: 4, score: 0.9),
        ]
        drawDetections(on: &image, boxes: boxes, style: DetectionDrawingStyle(lineWidth: 3, fontScale: 1))
        // Box 0 touches the top edge: its caption band starts at row 0 inside the box.
        XCTAssertEqual(image[6, 5], DetectionPalette.color(forClass: 1))
        // Box 1 is clipped: its left edge is off-image, its top edge is drawn.
        XCTAssertEqual(image[30, 21], DetectionPalette.color(forClass: 38))
    }

    func testTextRendersDistinctGlyphs() {
        var glyphs = Set<[UInt8]>()
        let characters = (0x21...0x7E).map { String(UnicodeScalar(UInt8($0))) }
        for character in characters {
            var image = RGBImage(width: 5, height: 8)
            image.drawText(character, x: 0, y: 0, color: .white)
            XCTAssertTrue(image.pixels.contains(255), "glyph '\(character)' is blank")
            glyphs.insert(image.pixels)
        }
        XCTAssertEqual(glyphs.count, characters.count, "every printable ASCII glyph differs")
    }

    /// Writes /tmp/annotated.png for a visual check of line and caption legibility.
    func testWritesAnnotatedSamplePhoto() throws {
        var image = try ImageDecoder.decode(contentsOf: Fixtures.photos.appendingPathComponent("cat_720p.jpg"))
        let boxes = [
            DetectionBox(x1: 330, y1: 90, x2: 980, y2: 700, label: "cat", classId: 17, score: 0.987),
            DetectionBox(x1: 20, y1: 10, x2: 300, y2: 260, label: "potted plant", classId: 64, score: 0.42),
            DetectionBox(x1: 1000, y1: 400, x2: 1290, y2: 730, label: "couch", classId: 63, score: 0.07),
            DetectionBox(x1: 600, y1: 0, x2: 800, y2: 120, label: "tv", classId: 72, score: 0.5),
        ]
        let before = image
        drawDetections(on: &image, boxes: boxes)
        XCTAssertNotEqual(image, before)
        let url = URL(fileURLWithPath: "/tmp/annotated.png")
        try image.write(to: url)
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: url), image)
        print("wrote \(url.path) (\(image.width)x\(image.height))")
    }
}
