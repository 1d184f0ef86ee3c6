// libFuzzer target: the whitelisting unpickler on its own (every opcode, memo,
// marks, globals, persistent ids), then the state-dict builder on what it read,
// with each referenced storage backed by a zeroed buffer of the recorded size
// (capped). Pickles follow each other until the input ends, as in a legacy file.
// Seeds: the data.pkl records of the zip fixtures and the legacy fixtures.

@testable import VisionCheckpoint

/// Backing for every storage the pickle references: 64 KiB of zeros.
let zeroStorage = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 64)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let name = "fuzz.pkl"
    zeroStorage.initializeMemory(as: UInt8.self, repeating: 0)
    var unpickler = SafeUnpickler(reader: ByteReader(UnsafeRawBufferPointer(start: bytes, count: size), fileName: name)) {
        arena, id in .storage(try storageReference(from: id, arena: arena, fileName: name))
    }
    do {
        while !unpickler.reader.isAtEnd {
            let root = try unpickler.load()
            let builder = TorchStateDictBuilder(fileName: name, arena: unpickler.arena) { reference in
                let dtype = reference.dtype.tensorDType
                return RawStorage(base: UnsafeRawPointer(zeroStorage.baseAddress),
                                  count: min(reference.count, zeroStorage.count / dtype.byteSize), dtype: dtype)
            }
            _ = try? builder.build(root)
        }
    } catch {
        requireNamed(error, name, target: "unpickler")
    }
    return 0
}
