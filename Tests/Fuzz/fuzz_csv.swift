// libFuzzer target: a CSV box list (Luminoth or TF-export header, quoted fields,
// negative rows) read as a dataset without image files. Seeds: the committed .csv files.

import Foundation
@testable import VisionData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = scratchFile("csv/fuzz.csv", fuzzData(bytes, size))
    do {
        let dataset = try CSVReader.load(root: file.deletingLastPathComponent(), files: [("fuzz", file)],
                                         reading: DatasetReading(requireImages: false, boxes: .fitToImage))
        for problem in dataset.problems { requireNamed(problem, "fuzz.csv", target: "csv") }
    } catch {
        requireNamed(error, "fuzz.csv", target: "csv")
    }
    return 0
}
