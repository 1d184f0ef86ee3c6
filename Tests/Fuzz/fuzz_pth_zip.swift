// libFuzzer target: the zip .pth reader (torch.save since 1.6): the zip directory, the
// data.pkl pickle, byteorder, storage records, views, metadata. Seeds: the committed
// zip .pth fixtures.

@testable import VisionCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzCheckpointReader(bytes, size, name: "fuzz.pth", target: "pth_zip", read: PthZipReader.read)
    return 0
}
