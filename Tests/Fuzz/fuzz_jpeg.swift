// libFuzzer target: JPEG decoding (libjpeg-turbo behind the CImageCodecs shim,
// EXIF orientation, the pixel limit) and the dataset readers' header-only size
// probe. Seeds: every committed .jpg fixture.

import Foundation
@testable import VisionData
import VisionImaging

/// 4 MP: big enough for every fixture, small enough that one input decodes well
/// within the 1 s timeout under AddressSanitizer.
let fuzzMaxPixels = 4_000_000

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let data = fuzzData(bytes, size)
    do {
        let image = try ImageDecoder.decode(data: data, name: "fuzz.jpg", maxPixels: fuzzMaxPixels)
        check(image.pixels.count == image.width * image.height * 3, "pixel buffer does not match the size")
    } catch {
        requireNamed(error, "fuzz.jpg", target: "jpeg")
    }
    _ = ImageHeader.probe(scratchFile("probe.jpg", data))
    return 0
}
