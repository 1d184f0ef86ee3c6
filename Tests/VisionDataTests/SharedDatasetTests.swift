import Foundation
import VisionData
import XCTest

/// The real datasets in ../shared/datasets (skipped where absent).
final class SharedDatasetTests: XCTestCase {
    func testBCCD() throws {
        guard let root = Fixtures.shared("bccd") else { throw XCTSkip("../shared/datasets/bccd not present") }
        let dataset = try DetectionDataset.load(from: root)
        XCTAssertEqual(dataset.format, .pascalVOC)
        XCTAssertEqual(dataset.classes, ["Platelets", "RBC", "WBC"])
        XCTAssertEqual(dataset.splits, ["train", "val", "trainval", "test"])
        let counts = try dataset.splits.map { try dataset.records(split: $0).count }
        XCTAssertEqual(counts, [205, 87, 292, 72])
        // The two zero-area RBC boxes, each reported once.
        XCTAssertEqual(dataset.problems.count, 2, "\(dataset.problems)")
        XCTAssertEqual(Set(dataset.problems.map { ($0.file as NSString).lastPathComponent }),
                       ["BloodImage_00338.xml", "BloodImage_00343.xml"])
        XCTAssertTrue(dataset.problems.allSatisfy { $0.kind == .zeroAreaBox })
        let all = try dataset.records(split: "trainval") + dataset.records(split: "test")
        XCTAssertEqual(Set(all.map(\.fileName)).count, 364)
        XCTAssertEqual(all.reduce(0) { $0 + $1.boxes.count }, 4888 - 2)
    }

    func testRaccoonCSV() throws {
        guard let root = Fixtures.shared("raccoon") else { throw XCTSkip("../shared/datasets/raccoon not present") }
        let dataset = try DetectionDataset.load(from: root)
        XCTAssertEqual(dataset.format, .csv)
        XCTAssertEqual(dataset.classes, ["raccoon"])
        XCTAssertEqual(dataset.splits, ["train", "test"])
        let boxes = try dataset.splits.map { try dataset.records(split: $0).reduce(0) { $0 + $1.boxes.count } }.reduce(0, +)
        XCTAssertEqual(boxes + dataset.problems.filter { $0.kind != .missingImage }.count, 217, "\(dataset.problems)")
        // The CSVs win over the VOC XMLs beside them (they carry the split); a note says how to read the XMLs.
        XCTAssertTrue(dataset.notes.contains { $0.contains("--annotations") }, "\(dataset.notes)")
    }

    /// Raccoon's own VOC layout: annotations/ and images/ in lower case, no split lists.
    func testRaccoonVOCLayout() throws {
        guard let root = Fixtures.shared("raccoon") else { throw XCTSkip("../shared/datasets/raccoon not present") }
        let named = try DetectionDataset.load(images: root.appendingPathComponent("images"),
                                              annotations: root.appendingPathComponent("annotations"))
        // Without data/*.csv the folder itself is read as VOC.
        let bare = FileManager.default.temporaryDirectory.appendingPathComponent("raccoon-voc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bare) }
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        for part in ["annotations", "images"] {
            try FileManager.default.createSymbolicLink(at: bare.appendingPathComponent(part), withDestinationURL: root.appendingPathComponent(part))
        }
        let detected = try DetectionDataset.load(from: bare)
        for dataset in [named, detected] {
            XCTAssertEqual(dataset.format, .pascalVOC)
            XCTAssertEqual(dataset.classes, ["raccoon"])
            XCTAssertEqual(dataset.splits, ["all"])
            let records = try dataset.records(split: "all")
            XCTAssertEqual(records.count, 200)
            XCTAssertEqual(records.reduce(0) { $0 + $1.boxes.count }, 217)
            XCTAssertTrue(dataset.problems.isEmpty, "\(dataset.problems.prefix(3))")
        }
    }
}
