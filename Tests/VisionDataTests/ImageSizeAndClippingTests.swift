import Foundation
import VisionData
import XCTest

/// Issue 19, item 4: the real image size wins over the annotated one, boxes a
/// little past the border are clipped (and reported), boxes further out are
/// dropped and counted in droppedObjects — in every format.
final class ImageSizeAndClippingTests: XCTestCase {
    func kinds(_ dataset: DetectionDataset) -> [DatasetProblem.Kind: Int] {
        dataset.problems.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }

    /// An XML <size> of 30x40 for a 40x30 image: reported, and the box that fits
    /// the real image is kept (it used to be dropped as out of bounds).
    func testContradictingXMLSizeIsReportedAndTheRealSizeUsed() throws {
        let scratch = try ScratchDataset("size-mismatch")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg40x30, to: "JPEGImages/a.jpg")
        try scratch.write("Annotations/a.xml", ScratchDataset.vocXML(filename: "a.jpg", size: (30, 40), objects: [("cat", [2, 2, 38, 28])]))
        let dataset = try DetectionDataset.load(from: scratch.root)
        let record = try XCTUnwrap(try dataset.records(split: "all").first)
        XCTAssertEqual(record.width, 40)
        XCTAssertEqual(record.height, 30)
        XCTAssertEqual(record.boxes, [BoundingBox(x1: 2, y1: 2, x2: 38, y2: 28)])
        XCTAssertEqual(record.droppedObjects, 0)
        XCTAssertEqual(kinds(dataset), [.sizeMismatch: 1], "\(dataset.problems)")
        let problem = try XCTUnwrap(dataset.problems.first)
        XCTAssertTrue(problem.file.hasSuffix("a.xml"))
        XCTAssertTrue(problem.reason.contains("30x40") && problem.reason.contains("40x30"), problem.reason)
    }

    /// A JPEG stored 13x9 with EXIF orientation 6 is 9x13 as decoded and annotated.
    func testEXIFOrientationSwapsTheSize() throws {
        let scratch = try ScratchDataset("exif")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.rotatedJPEG9x13, to: "train/r.jpg")
        try scratch.write("train.csv", "image_id,xmin,ymin,xmax,ymax,label\nr.jpg,1,1,8,12,thing\n")
        let csv = try DetectionDataset.load(from: scratch.url("train.csv"))
        let record = try XCTUnwrap(try csv.records(split: "train").first)
        XCTAssertEqual([record.width, record.height], [9, 13])
        XCTAssertEqual(record.boxes, [BoundingBox(x1: 1, y1: 1, x2: 8, y2: 12)])
        XCTAssertTrue(csv.problems.isEmpty, "\(csv.problems)")

        // A VOC <size> of the displayed image is no mismatch.
        try scratch.copy(ScratchDataset.rotatedJPEG9x13, to: "voc/JPEGImages/r.jpg")
        try scratch.write("voc/Annotations/r.xml", ScratchDataset.vocXML(filename: "r.jpg", size: (9, 13), objects: [("thing", [1, 1, 8, 12])]))
        let voc = try DetectionDataset.load(from: scratch.url("voc"))
        XCTAssertTrue(voc.problems.isEmpty, "\(voc.problems)")
        XCTAssertEqual(try voc.records(split: "all").first?.boxes.count, 1)
    }

    /// 640x480: the tolerance is 2% of the side, 12.8 px across and 9.6 px down.
    func testBoxesPastTheBorderAreClippedWithinTheToleranceAndDroppedBeyond() throws {
        let scratch = try ScratchDataset("clip")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg640x480, to: "JPEGImages/p.jpg")
        let objects: [(String, [Double])] = [
            ("cell", [-0.5, 0, 100, 100]),      // within a pixel: clipped, not reported
            ("cell", [600, 100, 650, 200]),     // 10 px past the right edge: clipped, reported
            ("cell", [10, 470, 100, 489]),      // 9 px past the bottom: clipped, reported
            ("cell", [-15, 10, 100, 100]),      // 15 px past the left edge: dropped
            ("cell", [645, 10, 650, 20]),       // entirely outside, within the tolerance: nothing left, dropped
            ("cell", [200, 200, 300, 300]),     // inside
        ]
        try scratch.write("Annotations/p.xml", ScratchDataset.vocXML(filename: "p.jpg", size: (640, 480), objects: objects))
        let dataset = try DetectionDataset.load(from: scratch.root)
        let record = try XCTUnwrap(try dataset.records(split: "all").first)
        XCTAssertEqual(record.boxes, [BoundingBox(x1: 0, y1: 0, x2: 100, y2: 100), BoundingBox(x1: 600, y1: 100, x2: 640, y2: 200),
                                      BoundingBox(x1: 10, y1: 470, x2: 100, y2: 480), BoundingBox(x1: 200, y1: 200, x2: 300, y2: 300)])
        XCTAssertEqual(record.areas.dropFirst().first, 40 * 100)  // the clipped box's area
        XCTAssertEqual(record.droppedObjects, 2)
        XCTAssertEqual(kinds(dataset), [.boxClipped: 2, .boxOutOfBounds: 2], "\(dataset.problems)")
        XCTAssertTrue(dataset.problems.contains { $0.kind == .boxClipped && $0.reason.contains("object 2") })
    }

    /// The same rules through COCO, CSV and YOLO: one box clipped, one dropped, each.
    func testClippingAppliesToEveryFormat() throws {
        let scratch = try ScratchDataset("clip-formats")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg640x480, to: "coco/images/p.jpg")
        try scratch.write("coco/annotations/instances_train.json", """
            {"images": [{"id": 1, "file_name": "p.jpg", "width": 640, "height": 480}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [-3, 1, 20, 10], "area": 200, "iscrowd": 0},
                             {"id": 2, "image_id": 1, "category_id": 1, "bbox": [630, 10, 30, 10], "area": 300, "iscrowd": 0}],
             "categories": [{"id": 1, "name": "cell"}]}
            """)
        try scratch.copy(ScratchDataset.jpeg640x480, to: "csv/images/p.jpg")
        try scratch.write("csv/data/train_labels.csv", "filename,width,height,class,xmin,ymin,xmax,ymax\n"
                          + "p.jpg,640,480,cell,-3,1,17,11\np.jpg,640,480,cell,630,10,660,20\n")
        try scratch.copy(ScratchDataset.jpeg640x480, to: "yolo/images/p.jpg")
        try scratch.write("yolo/classes.txt", "cell\n")
        // x from 0.98 to 1.01 of 640 (6.4 px past the edge), then 1.01 to 1.05 (32 px past).
        try scratch.write("yolo/labels/p.txt", "0 0.995 0.5 0.03 0.1\n0 1.03 0.5 0.04 0.1\n")
        for format in ["coco", "csv", "yolo"] {
            let dataset = try DetectionDataset.load(from: scratch.url(format))
            let split = try XCTUnwrap(dataset.splits.first)
            let record = try XCTUnwrap(try dataset.records(split: split).first, format)
            XCTAssertEqual(record.boxes.count, 1, format)
            XCTAssertEqual(record.droppedObjects, 1, format)
            XCTAssertTrue(record.boxes.allSatisfy { $0.x1 >= 0 && $0.x2 <= 640 }, "\(format): \(record.boxes)")
            XCTAssertEqual(kinds(dataset), [.boxClipped: 1, .boxOutOfBounds: 1], "\(format): \(dataset.problems)")
        }
        let coco = try XCTUnwrap(try DetectionDataset.load(from: scratch.url("coco")).records(split: "train").first)
        XCTAssertEqual(coco.boxes.first, BoundingBox(x1: 0, y1: 1, x2: 17, y2: 11))
        XCTAssertEqual(coco.areas.first, 200)  // the file's area (the segment's) stays; CSV and VOC boxes get the clipped w * h
    }

    /// Objects a reader cannot parse count as dropped, like unusable boxes, so
    /// training can leave their image out.
    func testUnparsableObjectsCountAsDropped() throws {
        let scratch = try ScratchDataset("unparsable-objects")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg40x30, to: "JPEGImages/a.jpg")
        try scratch.write("Annotations/a.xml", """
            <annotation><filename>a.jpg</filename>
              <object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox></object>
              <object><name>cat</name><bndbox><xmin>1</xmin><ymin>one</ymin><xmax>10</xmax><ymax>10</ymax></bndbox></object>
            </annotation>
            """)
        let dataset = try DetectionDataset.load(from: scratch.root)
        let record = try XCTUnwrap(try dataset.records(split: "all").first)
        XCTAssertEqual(record.boxes.count, 1)
        XCTAssertEqual(record.droppedObjects, 1)
        XCTAssertEqual(kinds(dataset), [.unparsable: 1])
    }
}
