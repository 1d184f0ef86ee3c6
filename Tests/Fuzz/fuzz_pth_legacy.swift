// libFuzzer target: the legacy .pth reader (torch.save before 1.6): consecutive pickles
// (magic, protocol, sys_info, the object, the storage keys) then raw storages.
// Seeds: the committed legacy .pth fixtures.

@testable import VisionCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzCheckpointReader(bytes, size, name: "fuzz_legacy.pth", target: "pth_legacy", read: PthLegacyReader.read)
    return 0
}
