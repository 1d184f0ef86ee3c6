// libFuzzer target: PNG decoding (libpng behind the CImageCodecs shim: chunk
// checks, every colour type and bit depth, the pixel limit) and the dataset
// readers' header-only size probe. Seeds: every committed .png fixture.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzImageDecode(fuzzData(bytes, size), name: "fuzz.png", target: "png")
    return 0
}
