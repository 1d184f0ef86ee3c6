// torch.save legacy streams (before torch 1.6): consecutive pickles
//   magic (LONG1 0x1950a86a20f9469cfc6c), protocol 1001, sys_info dict,
//   the object (persistent ids ('storage', cls, key, location, numel, view|None)),
//   the list of storage keys,
// then for each key in that order: int64 LE element count + the raw elements.

enum PthLegacyReader {
    /// The magic number's LONG1 payload (little-endian).
    static let magicBytes: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
    static let protocolVersion = 1001

    /// Whether the file starts with a pickled magic number (PROTO 2, LONG1 10, magic).
    static func looksLegacy(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let prefix: [UInt8] = [0x80, 0x02, 0x8a, 0x0a] + magicBytes
        return bytes.count >= prefix.count && prefix.indices.allSatisfy { bytes[$0] == prefix[$0] }
    }

    private final class StorageTable {
        var dtypes: [String: TensorDType] = [:]
        var data: [String: RawStorage] = [:]
    }

    static func read(_ file: MappedFile) throws -> StateDict {
        let name = file.fileName
        let table = StorageTable()
        var unpickler = SafeUnpickler(reader: ByteReader(file.bytes, fileName: name)) { arena, id in
            let reference = try storageReference(from: id, arena: arena, fileName: name)
            if table.dtypes[reference.rootKey] == nil { table.dtypes[reference.rootKey] = reference.dtype.tensorDType }
            return .storage(reference)
        }
        guard case let .bigInt(magic) = try unpickler.load(), magic == magicBytes else {
            throw CheckpointError.badHeader(file: name, message: "legacy magic number missing")
        }
        guard case let .int(version) = try unpickler.load(), version == protocolVersion else {
            throw CheckpointError.badHeader(file: name, message: "legacy protocol version is not \(protocolVersion)")
        }
        if case let .dict(info) = try unpickler.load(),
           case let .bool(little)? = unpickler.arena.lookup("little_endian", in: unpickler.arena.dicts[info].items), !little {
            throw CheckpointError.badHeader(file: name, message: "big-endian legacy files are not supported")
        }
        let root = try unpickler.load()
        let keyList = try unpickler.load()
        guard let keys = unpickler.arena.sequence(keyList) else {
            throw CheckpointError.badPickle(file: name, message: "legacy storage key list is a \(keyList.kindName)")
        }
        var reader = unpickler.reader
        for keyValue in keys {
            guard case let .string(key) = keyValue, let dtype = table.dtypes[key] else {
                throw CheckpointError.badPickle(file: name, message: "legacy storage key \(keyValue.kindName) is not referenced")
            }
            let count = try reader.u64("element count of storage \(key)")
            let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(dtype.byteSize))
            guard !overflow, bytes <= UInt64(reader.remaining) else {
                throw CheckpointError.truncated(file: name, context: "storage \(key) needs \(count) elements, \(reader.remaining) bytes left")
            }
            let slice = try reader.slice(Int(bytes), "storage \(key)")
            table.data[key] = RawStorage(base: slice.baseAddress, count: Int(count), dtype: dtype)
        }
        let builder = TorchStateDictBuilder(fileName: name, arena: unpickler.arena) { reference in
            guard let root = table.data[reference.rootKey] else {
                throw CheckpointError.badHeader(file: name, message: "storage \(reference.rootKey) has no data")
            }
            guard reference.rootOffset <= root.count else {
                throw CheckpointError.storageOutOfRange(file: name, key: reference.key, message: "view offset past its storage")
            }
            let count = min(reference.count, root.count - reference.rootOffset)
            return RawStorage(base: root.base.map { $0 + reference.rootOffset * root.dtype.byteSize }, count: count, dtype: root.dtype)
        }
        return try builder.build(root)
    }
}
