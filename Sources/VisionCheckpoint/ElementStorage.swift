// How the writers store elements (F32, or F16 at half the size), shared by the
// .safetensors and .pth writers so both refuse the same overflows and round the
// same way (round-to-nearest-even).

import VisionCore

/// How `saveSafetensors` and `savePth` store elements.
public enum SafetensorsStorage: String, Sendable {
    case float32 = "F32", float16 = "F16"

    /// The storage that writes `stateDict` back without losing a bit: F16 when every
    /// tensor was read from F16 (a file written with `--dtype f16`), else F32, which
    /// holds every other source type's converted values exactly as loaded.
    public static func lossless(for stateDict: StateDict) -> SafetensorsStorage {
        let types = stateDict.keys.compactMap { stateDict.sourceDTypes[$0] }
        return !types.isEmpty && types.allSatisfy { $0 == .float16 } ? .float16 : .float32
    }

    var elementSize: Int { self == .float16 ? 2 : 4 }

    /// Throws, naming the key, when a finite value does not fit; called before
    /// anything is written so a refused file leaves nothing behind.
    func checkRepresentable(_ stateDict: StateDict, file: String) throws {
        guard self == .float16 else { return }
        for key in stateDict.keys {
            if let value = stateDict.tensors[key]!.values.first(where: { $0.isFinite && !Float16($0).isFinite }) {
                throw CheckpointError.unsupportedDType(file: file, key: key, dtype: "F16 (the value \(value) is beyond its range; keep F32)")
            }
        }
    }

    /// Hands `body` the tensor's elements as this storage lays them out (little-endian).
    func withStoredBytes<R>(of tensor: Tensor, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .float32:
            return try tensor.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
        case .float16:
            let halves = tensor.withUnsafeBufferPointer { $0.map { Float16($0).bitPattern.littleEndian } }
            return try halves.withUnsafeBytes { try body($0) }
        }
    }
}
