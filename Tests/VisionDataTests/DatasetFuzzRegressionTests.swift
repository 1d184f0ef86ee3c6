// Inputs Tests/Fuzz found in the dataset and predictions readers (kept in
// Tests/Fixtures/fuzz).

import Foundation
import VisionData
import XCTest

final class DatasetFuzzRegressionTests: XCTestCase {
    func testImageNamesWithRunsOfSlashesDoNotCrash() throws {
        // The fuzzed CSV names an image "p3image_h\0///…0///…": NSString.pathExtension
        // trapped on it (any "a///0///"). Now it loads, and that row is an image
        // without objects (its box fields are missing).
        let url = Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/fuzz/csv_image_name_with_slashes.csv")
        let dataset = try DetectionDataset.load(from: url, requireImages: false)
        XCTAssertEqual(dataset.format, .csv)
        // Six distinct image names (rows without usable boxes are images without objects),
        // three rows reported.
        let records = try dataset.records(split: XCTUnwrap(dataset.splits.first))
        XCTAssertEqual(records.count, 6)
        XCTAssertEqual(records.first?.fileName, "p1.jpg")
        XCTAssertEqual(dataset.problems.map(\.reason), ["line 2: a coordinate is not a number", "line 5: a coordinate is not a number",
                                                        "line 8: 5 fields, expected 6"])
        XCTAssertTrue(dataset.problems.allSatisfy { $0.file == url.path && !$0.description.contains("\n") }, "\(dataset.problems)")
    }

    func testPredictionsMatchByLastPathComponent() throws {
        let scratch = try ScratchDataset("slashes")
        defer { scratch.remove() }
        try scratch.write("p.jsonl", """
            {"file": "a///0///", "objects": []}
            {"file": "/data/images/b.jpg", "objects": [{"bbox": [1, 2, 3, 4], "label": "cat", "prob": 0.9}]}

            """)
        let lines = try PredictionFile.read(scratch.url("p.jsonl"))
        let record = DetectionRecord(imageURL: URL(fileURLWithPath: "/elsewhere/b.jpg"), width: 10, height: 10)
        let matched = PredictionFile.match(lines, records: [record], classes: ["cat"])
        XCTAssertEqual(matched.unmatchedFiles, ["a///0///"])
        XCTAssertEqual(matched.images.first?.detections.count, 1)
    }
}
