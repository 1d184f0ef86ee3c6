// libFuzzer target: a Pascal VOC annotation XML, parsed on its own and read as a
// one-file VOC dataset (Annotations/fuzz.xml, no images: records are kept) so
// the record checks (sizes, boxes, classes) run too. Seeds: every committed .xml.

import Foundation
@testable import VisionData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = fuzzData(bytes, size)
    _ = try? VOCAnnotationParser.parse(data)
    let file = scratchFile("voc/Annotations/fuzz.xml", data)
    let layout = VOCLayout(annotations: file.deletingLastPathComponent(), imageDirectories: [fuzzScratch],
                           root: fuzzScratch.appendingPathComponent("voc"))
    do {
        let dataset = try VOCReader.load(layout, reading: DatasetReading(requireImages: false, boxes: .fitToImage))
        for problem in dataset.problems { requireNamed(problem, "fuzz.xml", target: "voc_xml") }
    } catch {
        requireNamed(error, "fuzz.xml", target: "voc_xml")
    }
    return 0
}
