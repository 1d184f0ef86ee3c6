// libFuzzer target: `vision predict` JSON Lines as `vision eval` reads them, then
// paired with a two-image split. Seeds: the committed .jsonl files.

import Foundation
@testable import VisionData

let fuzzRecords = [
    DetectionRecord(imageURL: URL(fileURLWithPath: "/fuzz/a.jpg"), width: 640, height: 480, imageId: 1),
    DetectionRecord(imageURL: URL(fileURLWithPath: "/fuzz/b.jpg"), width: 640, height: 480, imageId: 2),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = scratchFile("predictions/fuzz.jsonl", fuzzData(bytes, size))
    do {
        let lines = try PredictionFile.read(file)
        _ = PredictionFile.apparentScoreThreshold(lines)
        _ = PredictionFile.match(lines, records: fuzzRecords, classes: ["cat", "dog"])
    } catch {
        requireNamed(error, "fuzz.jsonl", target: "predictions")
    }
    return 0
}
