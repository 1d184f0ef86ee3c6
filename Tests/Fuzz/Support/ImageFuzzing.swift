// The body of the jpeg and png targets: decode, check the buffer, probe the header.

import Foundation
@testable import VisionData
import VisionImaging

/// 1 MP: enough for every small fixture, and small enough that one input decodes
/// well within the 1 s timeout under AddressSanitizer and coverage instrumentation
/// (the production limit, 100 MP, only bounds how much work a file may ask for).
let fuzzMaxPixels = 1_000_000

/// Decodes the input as the file `name` (its extension only names it: the format
/// comes from the signature), then has the dataset readers' header probe read it.
func fuzzImageDecode(_ data: Data, name: String, target: String) {
    do {
        let image = try ImageDecoder.decode(data: data, name: name, maxPixels: fuzzMaxPixels)
        check(image.pixels.count == image.width * image.height * 3, "\(target): pixel buffer does not match the size")
    } catch {
        requireNamed(error, name, target: target)
    }
    _ = ImageHeader.probe(scratchFile("probe-" + name, data))
}
