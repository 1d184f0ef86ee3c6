// libFuzzer target: a COCO instances JSON read as a dataset (images, annotations,
// categories; no image files, so records are kept and boxes checked against the
// JSON's sizes). Seeds: the committed COCO and eval ground-truth JSON files.

import Foundation
@testable import VisionData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = scratchFile("coco/instances_fuzz.json", fuzzData(bytes, size))
    do {
        let dataset = try COCOReader.load(root: file.deletingLastPathComponent(), files: [("fuzz", file)],
                                          reading: DatasetReading(requireImages: false, boxes: .asGiven))
        for problem in dataset.problems { requireNamed(problem, "instances_fuzz.json", target: "coco_json") }
    } catch {
        requireNamed(error, "instances_fuzz.json", target: "coco_json")
    }
    return 0
}
