// libFuzzer target: JPEG decoding (libjpeg-turbo behind the CImageCodecs shim,
// EXIF orientation, the pixel limit) and the dataset readers' header-only size
// probe. Seeds: every committed .jpg fixture.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzImageDecode(fuzzData(bytes, size), name: "fuzz.jpg", target: "jpeg")
    return 0
}
