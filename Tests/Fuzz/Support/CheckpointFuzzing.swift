// The body of the safetensors, pth_zip and pth_legacy targets.

@testable import VisionCheckpoint

/// Reads the input as the checkpoint file `name` with `read`, touching every tensor.
func fuzzCheckpointReader(_ bytes: UnsafePointer<UInt8>, _ size: Int, name: String, target: String,
                          read: (MappedFile) throws -> StateDict) {
    do {
        let file = try MappedFile(copying: UnsafeRawBufferPointer(start: bytes, count: size), name: name)
        let stateDict = try read(file)
        for key in stateDict.keys { _ = stateDict[key] }
    } catch {
        requireNamed(error, name, target: target)
    }
}
