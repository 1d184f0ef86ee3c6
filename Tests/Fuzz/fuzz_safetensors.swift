// libFuzzer target: the .safetensors reader: the u64 header length, the JSON header (dtype, shape,
// data_offsets, __metadata__), range and overlap checks, then conversion of every
// tensor to Float32. Seeds: the committed .safetensors fixtures.

@testable import VisionCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        let file = try MappedFile(copying: UnsafeRawBufferPointer(start: bytes, count: size), name: "fuzz.safetensors")
        let stateDict = try SafetensorsReader.read(file)
        for key in stateDict.keys { _ = stateDict[key] }
    } catch {
        requireNamed(error, "fuzz.safetensors", target: "safetensors")
    }
    return 0
}
