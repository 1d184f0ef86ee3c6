// libFuzzer target: YOLO label text (`class cx cy w h` lines) against a
// 640x480 image and three classes, and the same bytes as a data.yaml `names:`
// entry (flow list, block list, index map). Seeds: the committed YOLO .txt and .yaml.

import Foundation
@testable import VisionData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: bytes, count: size), as: UTF8.self)
    var problems: [DatasetProblem] = []
    let parsed = YOLOReader.parseLabels(text, width: 640, height: 480, classes: ["cat", "dog", "bird"],
                                        file: "fuzz.txt", problems: &problems)
    check(parsed.objects.count + parsed.unusable <= text.count, "more objects than characters")
    for problem in problems { requireNamed(problem, "fuzz.txt", target: "yolo") }
    _ = YOLOReader.yamlNames(text)
    return 0
}
