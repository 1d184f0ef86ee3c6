import Foundation
import VisionData
import XCTest

/// Issue 19, item 9: a predictions file written with a probability threshold
/// is recognised (its lowest probability is 0.1 or more over 5+ images).
final class PredictionThresholdTests: XCTestCase {
    func lines(_ probsPerImage: [[Double]]) throws -> [PredictionLine] {
        let text = probsPerImage.enumerated().map { i, probs in
            let objects = probs.map { "{\"bbox\": [1, 2, 3, 4], \"label\": \"cell\", \"prob\": \($0)}" }
            return "{\"file\": \"img\(i).jpg\", \"objects\": [\(objects.joined(separator: ", "))]}"
        }.joined(separator: "\n")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("predictions-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(text.utf8).write(to: url)
        return try PredictionFile.read(url)
    }

    func testThresholdedFilesAreRecognised() throws {
        let thresholded = try lines([[0.9, 0.51], [0.7], [0.99, 0.6, 0.55], [0.8], [0.52, 0.95]])
        XCTAssertEqual(PredictionFile.apparentScoreThreshold(thresholded), 0.51)
        // A model's own output reaches down to its 0.05 floor.
        let raw = try lines([[0.9, 0.51, 0.06], [0.7, 0.2], [0.99, 0.6, 0.3], [0.8, 0.12], [0.52, 0.95, 0.07]])
        XCTAssertNil(PredictionFile.apparentScoreThreshold(raw))
        // Too few images to judge, and no detections at all.
        XCTAssertNil(PredictionFile.apparentScoreThreshold(try lines([[0.9], [0.8], [0.7], [0.6], []])))
        XCTAssertNil(PredictionFile.apparentScoreThreshold(try lines([[], [], [], [], [], []])))
    }
}
