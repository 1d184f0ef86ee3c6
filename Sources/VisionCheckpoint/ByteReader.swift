// Bounds-checked little-endian reads over a byte range. Every read checks the
// requested length against the bytes that remain, so truncated or hostile
// input ends in a `CheckpointError.truncated` instead of a crash.

struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let fileName: String
    /// Read position, relative to `bytes`.
    var position: Int = 0
    /// Offset of `bytes` inside the file: only used to make messages exact.
    let fileOffset: Int

    init(_ bytes: UnsafeRawBufferPointer, fileName: String, fileOffset: Int = 0) {
        self.bytes = bytes
        self.fileName = fileName
        self.fileOffset = fileOffset
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position >= bytes.count }

    private func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw CheckpointError.truncated(
                file: fileName, context: "\(what()) needs \(n) bytes at offset \(fileOffset + position), \(remaining) left")
        }
    }

    mutating func u8(_ what: @autoclosure () -> String = "byte") throws -> UInt8 {
        try need(1, what())
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16(_ what: @autoclosure () -> String = "uint16") throws -> UInt16 {
        try need(2, what())
        defer { position += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    mutating func u32(_ what: @autoclosure () -> String = "uint32") throws -> UInt32 {
        try need(4, what())
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String = "uint64") throws -> UInt64 {
        try need(8, what())
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// A sub-range of `count` bytes; advances past it.
    mutating func slice(_ count: Int, _ what: @autoclosure () -> String = "data") throws -> UnsafeRawBufferPointer {
        try need(count, what())
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position ..< position + count])
    }

    mutating func skip(_ count: Int, _ what: @autoclosure () -> String = "data") throws {
        try need(count, what())
        position += count
    }
}

extension UnsafeRawBufferPointer {
    /// Little-endian uint at `offset`, or nil when it does not fit.
    func leUInt32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count - 4 else { return nil }
        return UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func leUInt16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= count - 2 else { return nil }
        return UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func leUInt64(at offset: Int) -> UInt64? {
        guard offset >= 0, offset <= count - 8 else { return nil }
        return UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
