// Errors and problems quote names and text from annotation files; a line break
// in them must not split the message (found by Tests/Fuzz on the other
// readers). Empty annotation files read as empty, not as errors.

import Foundation
import VisionData
import XCTest

final class OneLineMessageTests: XCTestCase {
    func testErrorsAndProblemsEscapeLineBreaks() {
        XCTAssertEqual(DatasetError.unreadable("/data/a\nb.json", reason: "not a JSON object").description,
                       "/data/a\\nb.json: not a JSON object")
        let problem = DatasetProblem(file: "labels/x.txt", kind: .unparsable, reason: "line 3: found 'a\u{2028}b'")
        XCTAssertEqual(problem.description, "labels/x.txt: unparsable: line 3: found 'a\\u{2028}b'")
    }

    func testAPredictionsFileNamedWithALineBreakGetsAOneLineError() throws {
        let scratch = try ScratchDataset("one-line")
        try scratch.write("pred\nictions.jsonl", "{\"file\": \"a.jpg\", \"objects\": [{\"bbox\": [1, 2]}]}\n")
        XCTAssertThrowsError(try PredictionFile.read(scratch.url("pred\nictions.jsonl"))) { error in
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.hasSuffix("pred\\nictions.jsonl: line 1: object 1 needs \"bbox\" (4 numbers) and \"prob\""), text)
        }
        try scratch.write("empty.jsonl", "")
        XCTAssertEqual(try PredictionFile.read(scratch.url("empty.jsonl")).count, 0)
    }
}
