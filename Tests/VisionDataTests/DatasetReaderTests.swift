import Foundation
import VisionData
import XCTest

/// Reads the tiny datasets of Tests/Fixtures/datasets (see generate_datasets.py
/// for what each one holds) and checks records, labels and reported problems.
final class DatasetReaderTests: XCTestCase {
    func kinds(_ dataset: DetectionDataset) -> [DatasetProblem.Kind: Int] {
        dataset.problems.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }

    func testPascalVOC() throws {
        let dataset = try DetectionDataset.load(from: Fixtures.dataset("voc"))
        XCTAssertEqual(dataset.format, .pascalVOC)
        XCTAssertEqual(dataset.classes, ["bird", "cat", "dog"])
        XCTAssertEqual(dataset.splits, ["train", "test"])  // cat_train.txt is a per-class list
        let train = try dataset.records(split: "train")
        XCTAssertEqual(train.map(\.fileName), ["a.jpg", "b.jpg"])
        XCTAssertEqual(train[0].labels, [3, 2])
        XCTAssertEqual(train[0].difficult, [false, true])
        XCTAssertEqual(train[0].boxes[0], BoundingBox(x1: 2, y1: 3, x2: 20, y2: 25))
        XCTAssertEqual(train[0].width, 40)
        XCTAssertEqual(train[1].labels, [2])
        let test = try dataset.records(split: "test")
        XCTAssertEqual(test.map(\.fileName), ["f.png"])
        XCTAssertEqual(test[0].width, 50)  // no <size>: read from the PNG header
        XCTAssertEqual(test[0].height, 20)
        XCTAssertEqual(test[0].boxes, [BoundingBox(x1: 1.5, y1: 2.5, x2: 48.5, y2: 19)])
        XCTAssertEqual(kinds(dataset), [.zeroAreaBox: 1, .boxOutOfBounds: 1, .unparsable: 1, .missingImage: 1, .missingAnnotation: 1])
        XCTAssertTrue(dataset.problems.contains { $0.file.hasSuffix("b.xml") && $0.kind == .zeroAreaBox })
        XCTAssertThrowsError(try dataset.records(split: "val"))
    }

    func testCOCO() throws {
        for url in [Fixtures.dataset("coco"), Fixtures.dataset("coco/annotations/instances_train.json")] {
            let dataset = try DetectionDataset.load(from: url)
            XCTAssertEqual(dataset.format, .coco)
            XCTAssertEqual(dataset.classes, ["apple", "zebra"])  // by category id: 2, 4
            XCTAssertEqual(dataset.splits, ["train"])
            let records = try dataset.records(split: "train")
            // Sorted by image id; id 9's image is missing.
            XCTAssertEqual(records.map(\.imageId), [2, 5])
            XCTAssertEqual(records[0].labels, [2, 1, 1])
            XCTAssertEqual(records[0].isCrowd, [false, true, false])
            XCTAssertEqual(records[0].areas, [100, 150.5, 1200])  // the area field, else w * h
            XCTAssertEqual(records[0].boxes[0], BoundingBox(x1: 1, y1: 2, x2: 11, y2: 14))
            XCTAssertTrue(records[1].boxes.isEmpty)
            XCTAssertEqual(kinds(dataset), [.unknownClass: 1, .unparsable: 2, .zeroAreaBox: 1, .missingImage: 1],
                           "\(dataset.problems)")
            let kept = try DetectionDataset.load(from: url, requireImages: false)
            XCTAssertEqual(try kept.records(split: "train").map(\.imageId), [2, 5, 9])
        }
    }

    func testLuminothCSV() throws {
        let dataset = try DetectionDataset.load(from: Fixtures.dataset("csv_luminoth"))
        XCTAssertEqual(dataset.format, .csv)
        XCTAssertEqual(dataset.classes, ["car", "person"])
        let records = try dataset.records(split: "train")
        XCTAssertEqual(records.map(\.fileName), ["p1.jpg", "p2.png"])
        XCTAssertEqual(records[0].labels, [2, 1, 2])
        XCTAssertEqual(records[0].width, 40)  // from the JPEG header
        XCTAssertEqual(records[1].boxes, [BoundingBox(x1: 0, y1: 0, x2: 40, y2: 30)])
        XCTAssertEqual(kinds(dataset), [.unparsable: 1, .missingImage: 1, .zeroAreaBox: 1], "\(dataset.problems)")
    }

    func testTensorFlowCSVLayout() throws {
        let dataset = try DetectionDataset.load(from: Fixtures.dataset("csv_tf"))
        XCTAssertEqual(dataset.classes, ["dog", "raccoon"])
        XCTAssertEqual(dataset.splits, ["train", "test"])
        XCTAssertEqual(try dataset.records(split: "train").map(\.fileName), ["r1.jpg", "r2.jpg"])
        XCTAssertEqual(try dataset.records(split: "train")[1].boxes, [])  // its only box is out of bounds
        XCTAssertEqual(try dataset.records(split: "test")[0].labels, [2, 1])
        XCTAssertEqual(kinds(dataset), [.boxOutOfBounds: 1])
        let single = try DetectionDataset.load(from: Fixtures.dataset("csv_tf/data/test_labels.csv"))
        XCTAssertEqual(single.splits, ["test"])
        XCTAssertEqual(try single.records(split: "test").count, 1)
    }

    func testYOLO() throws {
        let dataset = try DetectionDataset.load(from: Fixtures.dataset("yolo"))
        XCTAssertEqual(dataset.format, .yolo)
        XCTAssertEqual(dataset.classes, ["ant", "bee", "wasp"])
        XCTAssertEqual(dataset.splits, ["train", "val"])
        let train = try dataset.records(split: "train")
        XCTAssertEqual(train.map(\.fileName), ["y1.jpg", "y2.png"])
        XCTAssertEqual(train[0].labels, [1, 2])
        XCTAssertEqual(train[0].boxes[0], BoundingBox(x1: 10, y1: 7.5, x2: 30, y2: 22.5))
        XCTAssertEqual(train[1].labels, [3])  // 20x10 image; the second box leaves it
        XCTAssertEqual(train[1].boxes[0], BoundingBox(x1: 0, y1: 0, x2: 20, y2: 10))
        let val = try dataset.records(split: "val")
        XCTAssertEqual(val.count, 1)
        XCTAssertTrue(val[0].boxes.isEmpty)  // no label file: a background image
        XCTAssertEqual(kinds(dataset), [.unknownClass: 1, .unparsable: 1, .boxOutOfBounds: 1, .missingImage: 1],
                       "\(dataset.problems)")

        let flat = try DetectionDataset.load(from: Fixtures.dataset("yolo_flat"))
        XCTAssertEqual(flat.classes, ["alpha", "beta"])
        XCTAssertEqual(flat.splits, ["all"])
        XCTAssertEqual(try flat.records(split: "all")[0].labels, [2])
    }

    func testUnrecognisedPaths() {
        XCTAssertThrowsError(try DetectionDataset.load(from: Fixtures.dataset("nonexistent"))) { error in
            XCTAssertTrue("\(error)".contains("nonexistent"))
        }
        XCTAssertThrowsError(try DetectionDataset.load(from: Fixtures.dataset("voc/Annotations/a.xml")))
        XCTAssertThrowsError(try DetectionDataset.load(from: Fixtures.dataset("voc/JPEGImages")))
    }

    func testInspectionReport() throws {
        let dataset = try DetectionDataset.load(from: Fixtures.dataset("voc"))
        let report = try dataset.inspectionReport(maxProblems: 2)
        XCTAssertTrue(report.contains("problems: 5"), report)
        XCTAssertTrue(report.contains("... and 3 more"), report)
        let summary = try dataset.summaries(only: "train")[0]
        XCTAssertEqual(summary.images, 2)
        XCTAssertEqual(summary.boxes, 3)
        XCTAssertEqual(summary.boxesPerClass, [0, 2, 1])
        XCTAssertEqual(summary.imagesPerClass, [0, 2, 1])
        XCTAssertEqual(summary.difficultBoxes, 1)
        XCTAssertEqual(summary.imagesWithDroppedObjects, 1)  // b.jpg: a zero-area and an out-of-bounds box
        XCTAssertTrue(report.contains("train: 2 images (0 without boxes), 3 boxes, 1 difficult; 1 image(s) lost an object"), report)
    }
}
