// libFuzzer target: what `vision serve` itself does with a POST /api/v1/predict
// (not Hummingbird's HTTP parser): Content-Type and multipart/form-data parsing,
// option validation (model, min_prob, max_detections, only_class; query or form
// fields), then the image decode a worker runs on the upload.
// Input layout: line 1 the Content-Type ("" = none), line 2 the query string
// (k=v&k=v), the rest the body. Seeds: requests built from committed images.

import Foundation
@testable import ServeRequest
import VisionImaging

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = fuzzData(bytes, size)
    var lines = input.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
    while lines.count < 3 { lines.append(Data()) }
    let contentType = String(decoding: lines[0], as: UTF8.self)
    let query = String(decoding: lines[1], as: UTF8.self).split(separator: "&").map { pair -> (String, String) in
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }
    let request: PredictRequest
    do {
        request = try PredictRequest.parse(body: Data(lines[2]), contentType: contentType.isEmpty ? nil : contentType, query: query)
    } catch {
        check(error is PredictRequestError, "parse threw \(type(of: error)), not a PredictRequestError")
        check(!String(describing: error).contains("\n"), "multi-line error: \(error)")
        return 0
    }
    check(request.minProb >= 0 && request.minProb <= 1 && request.maxDetections >= 1, "option out of range")
    do {
        _ = try ImageDecoder.decode(data: request.image, name: request.file, maxPixels: fuzzMaxPixels)  // 1 MP, as in the jpeg and png targets
    } catch {
        requireNamed(error, request.file, target: "serve_request")
    }
    return 0
}
