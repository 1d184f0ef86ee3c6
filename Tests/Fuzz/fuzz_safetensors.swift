// libFuzzer target: the .safetensors reader: the u64 header length, the JSON header (dtype, shape,
// data_offsets, __metadata__), range and overlap checks, then conversion of every
// tensor to Float32. Seeds: the committed .safetensors fixtures.

@testable import VisionCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzCheckpointReader(bytes, size, name: "fuzz.safetensors", target: "safetensors", read: SafetensorsReader.read)
    return 0
}
