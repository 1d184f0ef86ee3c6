// libFuzzer target: the zip .pth reader (torch.save since 1.6): the zip directory, the
// data.pkl pickle, byteorder, storage records, views, metadata. Seeds: the committed
// zip .pth fixtures.

@testable import VisionCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        let file = try MappedFile(copying: UnsafeRawBufferPointer(start: bytes, count: size), name: "fuzz.pth")
        let stateDict = try PthZipReader.read(file)
        for key in stateDict.keys { _ = stateDict[key] }
    } catch {
        requireNamed(error, "fuzz.pth", target: "pth_zip")
    }
    return 0
}
