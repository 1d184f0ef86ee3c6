// Bounds-checked reads of a FlatBuffers file (the container of TFLite models).
// FlatBuffers is little-endian: the file starts with a uint32 offset to the root
// table; a table starts with an int32 "soffset" back to its vtable; the vtable
// is [uint16 vtable bytes, uint16 table bytes, uint16 field offset per field id]
// (0 or beyond the vtable = field absent, take the default); offset fields
// (tables, vectors, strings) hold a uint32 relative to their own position; a
// vector is a uint32 element count followed by the elements. Every position read
// here is checked against the file, so a truncated or hostile file ends in a
// `CheckpointError`, never an out-of-bounds read.

struct FlatBuffer {
    let bytes: UnsafeRawBufferPointer
    let fileName: String

    func outside(_ what: String, at offset: Int, length: Int) -> CheckpointError {
        .truncated(file: fileName, context: "\(what): \(length) bytes at offset \(offset) lie outside the \(bytes.count)-byte file")
    }

    /// Checks that `length` bytes at `offset` lie inside the file (overflow-safe).
    func check(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws {
        guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
            throw outside(what(), at: offset, length: length)
        }
    }

    func u8(at offset: Int, _ what: @autoclosure () -> String) throws -> UInt8 {
        try check(offset, 1, what())
        return bytes[offset]
    }

    func u16(at offset: Int, _ what: @autoclosure () -> String) throws -> UInt16 {
        try check(offset, 2, what())
        return bytes.leUInt16(at: offset)!
    }

    func u32(at offset: Int, _ what: @autoclosure () -> String) throws -> UInt32 {
        try check(offset, 4, what())
        return bytes.leUInt32(at: offset)!
    }

    func u64(at offset: Int, _ what: @autoclosure () -> String) throws -> UInt64 {
        try check(offset, 8, what())
        return bytes.leUInt64(at: offset)!
    }

    /// The table whose start (its soffset) is at `position`.
    func table(at position: Int, _ what: String) throws -> FlatBufferTable {
        let soffset = Int(Int32(bitPattern: try u32(at: position, "\(what) table")))
        let vtable = position - soffset
        let vtableBytes = Int(try u16(at: vtable, "\(what) vtable"))
        let tableBytes = Int(try u16(at: vtable + 2, "\(what) vtable"))
        guard vtableBytes >= 4, vtableBytes % 2 == 0 else {
            throw CheckpointError.badHeader(file: fileName, message: "\(what): vtable of \(vtableBytes) bytes at offset \(vtable)")
        }
        try check(vtable, vtableBytes, "\(what) vtable")
        try check(position, max(tableBytes, 4), "\(what) table")
        return FlatBufferTable(buffer: self, position: position, vtable: vtable, vtableBytes: vtableBytes,
                               tableBytes: tableBytes, what: what)
    }

    /// The root table: the uint32 at offset 0 points to it.
    func root(_ what: String) throws -> FlatBufferTable {
        try table(at: Int(try u32(at: 0, "root offset")), what)
    }
}

struct FlatBufferTable {
    let buffer: FlatBuffer
    let position: Int
    let vtable: Int
    let vtableBytes: Int
    let tableBytes: Int
    /// What this table is ("tensor 12"), for error messages.
    let what: String

    /// Absolute position of field `id` of `size` bytes, or nil when the field is absent.
    private func field(_ id: Int, size: Int, _ name: String) throws -> Int? {
        let slot = 4 + 2 * id
        guard slot + 2 <= vtableBytes else { return nil }
        let offset = Int(try buffer.u16(at: vtable + slot, "\(what) vtable"))
        guard offset != 0 else { return nil }
        guard offset + size <= tableBytes else {
            throw CheckpointError.badHeader(
                file: buffer.fileName, message: "\(what).\(name): field at +\(offset) outside its \(tableBytes)-byte table")
        }
        return position + offset
    }

    func u8(_ id: Int, _ name: String, default value: UInt8 = 0) throws -> UInt8 {
        guard let at = try field(id, size: 1, name) else { return value }
        return try buffer.u8(at: at, "\(what).\(name)")
    }

    func i8(_ id: Int, _ name: String, default value: Int8 = 0) throws -> Int8 {
        Int8(bitPattern: try u8(id, name, default: UInt8(bitPattern: value)))
    }

    func u32(_ id: Int, _ name: String, default value: UInt32 = 0) throws -> UInt32 {
        guard let at = try field(id, size: 4, name) else { return value }
        return try buffer.u32(at: at, "\(what).\(name)")
    }

    func i32(_ id: Int, _ name: String, default value: Int32 = 0) throws -> Int32 {
        Int32(bitPattern: try u32(id, name, default: UInt32(bitPattern: value)))
    }

    func u64(_ id: Int, _ name: String, default value: UInt64 = 0) throws -> UInt64 {
        guard let at = try field(id, size: 8, name) else { return value }
        return try buffer.u64(at: at, "\(what).\(name)")
    }

    /// Where an offset field (table, vector, string) points, or nil when absent.
    private func target(_ id: Int, _ name: String) throws -> Int? {
        guard let at = try field(id, size: 4, name) else { return nil }
        let target = at + Int(try buffer.u32(at: at, "\(what).\(name)"))
        try buffer.check(target, 4, "\(what).\(name)")
        return target
    }

    func table(_ id: Int, _ name: String) throws -> FlatBufferTable? {
        guard let at = try target(id, name) else { return nil }
        return try buffer.table(at: at, "\(what).\(name)")
    }

    /// (first element position, element count) of a vector of `elementSize`-byte
    /// elements, its whole extent checked against the file; nil when absent.
    func vector(_ id: Int, _ name: String, elementSize: Int) throws -> (start: Int, count: Int)? {
        guard let at = try target(id, name) else { return nil }
        let count = Int(try buffer.u32(at: at, "\(what).\(name) length"))
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow else { throw buffer.outside("\(what).\(name) (\(count) elements)", at: at + 4, length: Int.max) }
        try buffer.check(at + 4, bytes, "\(what).\(name) (\(count) elements)")
        return (at + 4, count)
    }

    /// The tables of a vector of tables; empty when absent.
    func tables(_ id: Int, _ name: String, element: String) throws -> [FlatBufferTable] {
        guard let (start, count) = try vector(id, name, elementSize: 4) else { return [] }
        return try (0 ..< count).map { i in
            let at = start + 4 * i
            return try buffer.table(at: at + Int(try buffer.u32(at: at, "\(name)[\(i)]")), "\(element) \(i)")
        }
    }

    func int32s(_ id: Int, _ name: String) throws -> [Int32] {
        guard let (start, count) = try vector(id, name, elementSize: 4) else { return [] }
        return (0 ..< count).map { Int32(bitPattern: buffer.bytes.leUInt32(at: start + 4 * $0)!) }
    }

    func float32s(_ id: Int, _ name: String) throws -> [Float] {
        guard let (start, count) = try vector(id, name, elementSize: 4) else { return [] }
        return (0 ..< count).map { Float(bitPattern: buffer.bytes.leUInt32(at: start + 4 * $0)!) }
    }

    func int64s(_ id: Int, _ name: String) throws -> [Int64] {
        guard let (start, count) = try vector(id, name, elementSize: 8) else { return [] }
        return (0 ..< count).map { Int64(bitPattern: buffer.bytes.leUInt64(at: start + 8 * $0)!) }
    }

    /// A UTF-8 string field (invalid bytes replaced), or nil when absent.
    func string(_ id: Int, _ name: String) throws -> String? {
        guard let (start, count) = try vector(id, name, elementSize: 1) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer.bytes[start ..< start + count]), as: UTF8.self)
    }
}
