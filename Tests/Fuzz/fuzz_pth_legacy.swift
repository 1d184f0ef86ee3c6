// libFuzzer target: the legacy .pth reader (torch.save before 1.6): consecutive pickles
// (magic, protocol, sys_info, the object, the storage keys) then raw storages.
// Seeds: the committed legacy .pth fixtures.

@testable import VisionCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        let file = try MappedFile(copying: UnsafeRawBufferPointer(start: bytes, count: size), name: "fuzz_legacy.pth")
        let stateDict = try PthLegacyReader.read(file)
        for key in stateDict.keys { _ = stateDict[key] }
    } catch {
        requireNamed(error, "fuzz_legacy.pth", target: "pth_legacy")
    }
    return 0
}
