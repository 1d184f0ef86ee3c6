// libFuzzer target: PNG decoding (libpng behind the CImageCodecs shim: every colour
// type and bit depth, the pixel limit) and the dataset readers' header-only size
// probe. Seeds: every committed .png fixture.

import Foundation
@testable import VisionData
import VisionImaging

/// 1 MP: enough for every small fixture, and small enough that one input decodes
/// well within the 1 s timeout under AddressSanitizer and coverage instrumentation
/// (the production limit, 100 MP, only bounds how much work a file may ask for).
let fuzzMaxPixels = 1_000_000

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = fuzzData(bytes, size)
    do {
        let image = try ImageDecoder.decode(data: data, name: "fuzz.png", maxPixels: fuzzMaxPixels)
        check(image.pixels.count == image.width * image.height * 3, "pixel buffer does not match the size")
    } catch {
        requireNamed(error, "fuzz.png", target: "png")
    }
    _ = ImageHeader.probe(scratchFile("probe.png", data))
    return 0
}
