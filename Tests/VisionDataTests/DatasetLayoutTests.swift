import Foundation
import VisionData
import XCTest

/// Issue 19, item 8: the common Pascal VOC variants, images and annotations
/// named apart, which reading wins when a folder holds two, malformed XML
/// messages, and CSV rows of images without objects.
final class DatasetLayoutTests: XCTestCase {
    /// annotations/ and images/ in lower case, no split lists, XML named apart
    /// from its image (found through <filename>): the raccoon dataset's layout.
    func testLowerCaseVOCLayoutWithoutSplitLists() throws {
        let scratch = try ScratchDataset("voc-lower")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg40x30, to: "images/photo-1.jpg")
        try scratch.copy(ScratchDataset.png37x23, to: "images/photo-2.png")
        try scratch.write("annotations/first.xml", ScratchDataset.vocXML(filename: "photo-1.jpg", size: (40, 30), objects: [("fox", [1, 2, 30, 20])]))
        try scratch.write("annotations/photo-2.xml", ScratchDataset.vocXML(filename: "", size: nil, objects: [("owl", [3, 3, 9, 9])]))
        let dataset = try DetectionDataset.load(from: scratch.root)
        XCTAssertEqual(dataset.format, .pascalVOC)
        XCTAssertEqual(dataset.splits, ["all"])
        XCTAssertEqual(dataset.classes, ["fox", "owl"])
        let records = try dataset.records(split: "all")
        XCTAssertEqual(records.map(\.fileName), ["photo-1.jpg", "photo-2.png"])  // the second by the XML's own name
        XCTAssertEqual(records.map(\.labels), [[1], [2]])
        XCTAssertEqual(records.last?.width, 37)
        XCTAssertTrue(dataset.problems.isEmpty, "\(dataset.problems)")
    }

    /// Images/ with a stale <filename>: <path> (a Windows path from another machine)
    /// names the image; an absolute <path> that exists is followed as written.
    func testImageFoundThroughPath() throws {
        let scratch = try ScratchDataset("voc-path")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg40x30, to: "Images/pic.jpg")
        try scratch.copy(ScratchDataset.png37x23, to: "elsewhere/far.png")
        try scratch.write("Annotations/x1.xml", ScratchDataset.vocXML(filename: "renamed.jpg", size: (40, 30), objects: [("cat", [1, 1, 9, 9])],
                                                                      path: "C:\\Users\\me\\Desktop\\pic.jpg"))
        try scratch.write("Annotations/x2.xml", ScratchDataset.vocXML(filename: "far.png", size: (37, 23), objects: [("cat", [1, 1, 9, 9])],
                                                                      path: scratch.url("elsewhere/far.png").path))
        let dataset = try DetectionDataset.load(from: scratch.root)
        let records = try dataset.records(split: "all")
        XCTAssertEqual(records.map(\.imageURL.path), [scratch.url("Images/pic.jpg").path, scratch.url("elsewhere/far.png").path])
        XCTAssertTrue(dataset.problems.isEmpty, "\(dataset.problems)")
    }

    /// VOC XMLs without split lists beside CSV files: the CSVs, which name the
    /// splits, are read, and a note says how to read the XMLs. With split lists, VOC wins.
    func testPrecedenceBetweenVOCAndCSV() throws {
        let scratch = try ScratchDataset("voc-csv")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg40x30, to: "images/a.jpg")
        try scratch.write("annotations/a.xml", ScratchDataset.vocXML(filename: "a.jpg", size: (40, 30), objects: [("fox", [1, 2, 30, 20])]))
        try scratch.write("data/train_labels.csv", "filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,40,30,fox,1,2,30,20\n")
        let csv = try DetectionDataset.load(from: scratch.root)
        XCTAssertEqual(csv.format, .csv)
        XCTAssertEqual(csv.splits, ["train"])
        XCTAssertEqual(csv.notes.count, 1)
        let note = csv.notes.first ?? ""
        XCTAssertTrue(note.contains("--annotations \(scratch.url("annotations").path)"), note)
        XCTAssertTrue(try csv.inspectionReport().contains("note:"))

        try scratch.write("ImageSets/Main/trainval.txt", "a\n")
        let voc = try DetectionDataset.load(from: scratch.root)
        XCTAssertEqual(voc.format, .pascalVOC)
        XCTAssertEqual(voc.splits, ["trainval"])
        XCTAssertTrue(voc.notes.isEmpty)
    }

    /// `load(images:annotations:)` for each kind of annotations it takes.
    func testImagesAndAnnotationsNamedApart() throws {
        let scratch = try ScratchDataset("pairs")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg40x30, to: "pics/a.jpg")
        try scratch.copy(ScratchDataset.png37x23, to: "pics/b.png")
        let pics = scratch.url("pics")

        try scratch.write("voc/xml/a.xml", ScratchDataset.vocXML(filename: "a.jpg", size: (40, 30), objects: [("fox", [1, 2, 30, 20])]))
        try scratch.write("voc/xml/b.xml", ScratchDataset.vocXML(filename: "b.png", size: (37, 23), objects: [("owl", [1, 1, 5, 5])]))
        try scratch.write("voc/ImageSets/Main/test.txt", "b\n")
        let voc = try DetectionDataset.load(images: pics, annotations: scratch.url("voc/xml"))
        XCTAssertEqual(voc.format, .pascalVOC)
        XCTAssertEqual(voc.splits, ["test"])  // split lists beside the XML folder
        XCTAssertEqual(try voc.records(split: "test").map(\.fileName), ["b.png"])

        try scratch.write("labels.json", """
            {"images": [{"id": 3, "file_name": "a.jpg", "width": 40, "height": 30}],
             "annotations": [{"id": 1, "image_id": 3, "category_id": 7, "bbox": [1, 1, 10, 10], "iscrowd": 0}],
             "categories": [{"id": 7, "name": "fox"}]}
            """)
        let coco = try DetectionDataset.load(images: pics, annotations: scratch.url("labels.json"))
        XCTAssertEqual(coco.format, .coco)
        XCTAssertEqual(try coco.records(split: "labels").first?.imageURL.path, scratch.url("pics/a.jpg").path)

        try scratch.write("boxes.csv", "image_id,xmin,ymin,xmax,ymax,label\nb,1,1,5,5,owl\na,2,2,8,8,fox\n")
        let csv = try DetectionDataset.load(images: pics, annotations: scratch.url("boxes.csv"))
        XCTAssertEqual(csv.format, .csv)
        XCTAssertEqual(try csv.records(split: "boxes").map(\.fileName), ["b.png", "a.jpg"])

        try scratch.write("yolo/labels/a.txt", "1 0.5 0.5 0.5 0.5\n")
        try scratch.write("yolo/labels/classes.txt", "owl\nfox\n")
        let yolo = try DetectionDataset.load(images: pics, annotations: scratch.url("yolo/labels"))
        XCTAssertEqual(yolo.format, .yolo)
        XCTAssertEqual(yolo.classes, ["owl", "fox"])
        let records = try yolo.records(split: "all")
        XCTAssertEqual(records.map(\.fileName), ["a.jpg", "b.png"])  // b has no label file: a background image
        XCTAssertEqual(records.map(\.labels), [[2], []])

        for (images, annotations) in [(scratch.url("nowhere"), scratch.url("boxes.csv")), (pics, scratch.url("pics/a.jpg")),
                                      (scratch.url("boxes.csv"), scratch.url("boxes.csv"))] {
            XCTAssertThrowsError(try DetectionDataset.load(images: images, annotations: annotations)) { error in
                XCTAssertTrue("\(error)".hasPrefix("/"), "\(error)")  // names the path
            }
        }
    }

    /// "malformed XML at line 4, column ...: <words>", never "NSXMLParserErrorDomain error 76".
    func testMalformedXMLNamesLineAndColumn() throws {
        let scratch = try ScratchDataset("bad-xml")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg40x30, to: "JPEGImages/a.jpg")
        try scratch.write("Annotations/a.xml", "<annotation>\n  <filename>a.jpg</filename>\n  <object><name>cat</name>\n"
                          + "  <bndbox><xmin>1</xmin></bndbox></objekt>\n</annotation>\n")
        let dataset = try DetectionDataset.load(from: scratch.root)
        let problem = try XCTUnwrap(dataset.problems.first)
        XCTAssertEqual(problem.kind, .unparsable)
        XCTAssertTrue(problem.file.hasSuffix("a.xml"))
        XCTAssertTrue(problem.reason.contains("line 4, column "), problem.reason)
        XCTAssertFalse(problem.reason.contains("NSXMLParserErrorDomain"), problem.reason)
        XCTAssertTrue(problem.reason.contains("closing tag"), problem.reason)
    }

    /// `img.jpg,,,,,` and `img.jpg,640,480,,,,,` are images without objects.
    func testCSVRowsWithEmptyBoxFieldsAreNegativeImages() throws {
        let scratch = try ScratchDataset("csv-negatives")
        defer { scratch.remove() }
        try scratch.copy(ScratchDataset.jpeg40x30, to: "train/a.jpg")
        try scratch.copy(ScratchDataset.png37x23, to: "train/b.png")
        try scratch.write("train.csv", "image_id,xmin,ymin,xmax,ymax,label\na.jpg,1,1,9,9,cat\nb.png,,,,,\n")
        let luminoth = try DetectionDataset.load(from: scratch.url("train.csv"))
        XCTAssertTrue(luminoth.problems.isEmpty, "\(luminoth.problems)")
        XCTAssertEqual(try luminoth.records(split: "train").map(\.boxes.count), [1, 0])
        XCTAssertEqual(try luminoth.records(split: "train").last?.droppedObjects, 0)

        try scratch.copy(ScratchDataset.jpeg640x480, to: "images/c.jpg")
        try scratch.write("data/test_labels.csv", "filename,width,height,class,xmin,ymin,xmax,ymax\nc.jpg,640,480,,,,,\n")
        let tf = try DetectionDataset.load(from: scratch.url("data/test_labels.csv"))
        XCTAssertTrue(tf.problems.isEmpty, "\(tf.problems)")
        let record = try XCTUnwrap(try tf.records(split: "test").first)
        XCTAssertEqual([record.width, record.height], [640, 480])
        XCTAssertTrue(record.boxes.isEmpty)
        XCTAssertEqual(try tf.summaries().first?.emptyImages, 1)

        // A label without coordinates is still a broken row.
        try scratch.write("bad.csv", "image_id,xmin,ymin,xmax,ymax,label\nc.jpg,,,,,cat\n")
        let bad = try DetectionDataset.load(from: scratch.url("bad.csv"))
        XCTAssertEqual(bad.problems.map(\.kind), [.unparsable])
    }
}
