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

    func testAnElementNameThatIsNotUTF8IsAProblemNotACrash() throws {
        // 40 bytes: "<obj\u{e5}ct>" with a Latin-1 byte in a document read as UTF-8.
        // FoundationXML trapped on the element name; now the file is reported.
        let scratch = try ScratchDataset("latin1")
        defer { scratch.remove() }
        let fuzzed = try Data(contentsOf: Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/fuzz/voc_latin1_element_name.xml"))
        try scratch.write("Annotations/bad.xml", fuzzed)
        // The same byte is fine where the file says it is Latin-1.
        try scratch.write("Annotations/good.xml", Data("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><annotation>".utf8)
            + Data([0x3C, 0x66, 0x69, 0x6C, 0x65, 0x6E, 0x61, 0x6D, 0x65, 0x3E, 0x63, 0x61, 0x66, 0xE9, 0x2E, 0x6A, 0x70, 0x67])  // <filename>caf\u{e9}.jpg
            + Data("</filename><size><width>10</width><height>10</height></size></annotation>".utf8))
        let dataset = try DetectionDataset.load(from: scratch.root, requireImages: false)
        XCTAssertEqual(dataset.problems.map(\.description),
                       [scratch.url("Annotations/bad.xml").path + ": unparsable: malformed XML: byte 20 is not UTF-8 text "
                        + "(save the file as UTF-8, or name its encoding in <?xml ... encoding=\"...\"?>)"])
        let records = try dataset.records(split: XCTUnwrap(dataset.splits.first))
        XCTAssertEqual(records.map(\.fileName), ["caf\u{e9}.jpg"])
    }

    func testAProcessingInstructionWithoutDataIsAProblemNotACrash() throws {
        // 15 bytes: "<?xdifficult?>\0". FoundationXML called strlen on the instruction's
        // missing data (a segfault); now the file is reported.
        let scratch = try ScratchDataset("pi")
        defer { scratch.remove() }
        let fuzzed = try Data(contentsOf: Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/fuzz/voc_processing_instruction_without_data.xml"))
        try scratch.write("Annotations/bad.xml", fuzzed)
        try scratch.write("Annotations/good.xml", "<?xml version=\"1.0\"?><?editor labelImg?><annotation><filename>a.jpg</filename></annotation>")
        let dataset = try DetectionDataset.load(from: scratch.root, requireImages: false)
        XCTAssertEqual(dataset.problems.map(\.description),
                       [scratch.url("Annotations/bad.xml").path + ": unparsable: malformed XML: processing instruction <?xdifficult?> has no data (not supported)"])
        XCTAssertEqual(try dataset.records(split: XCTUnwrap(dataset.splits.first)).map(\.fileName), ["a.jpg"])
    }
}
