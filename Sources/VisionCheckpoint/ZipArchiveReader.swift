// A minimal zip reader for torch's .pth archives: it lists the central
// directory (classic or zip64) and hands out the bytes of STORED entries as
// slices of the mapped file, so tensor data is never copied before conversion.

struct ZipEntry {
    let name: String
    /// 0 = stored, 8 = deflate, ...
    let method: UInt16
    /// Where the entry's data begins in the file.
    let dataOffset: Int
    let compressedSize: Int
    let uncompressedSize: Int
}

struct ZipArchiveReader {
    static let endOfCentralDirectorySignature: UInt32 = 0x0605_4b50
    static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    static let zip64EndSignature: UInt32 = 0x0606_4b50
    static let centralHeaderSignature: UInt32 = 0x0201_4b50
    static let localHeaderSignature: UInt32 = 0x0403_4b50

    let fileName: String
    let bytes: UnsafeRawBufferPointer
    /// Entries in central-directory order.
    let entries: [ZipEntry]
    let entriesByName: [String: Int]

    init(bytes: UnsafeRawBufferPointer, fileName: String) throws {
        self.bytes = bytes
        self.fileName = fileName
        let (count, directoryOffset, directorySize) = try Self.locateCentralDirectory(bytes, fileName)
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= bytes.count - directorySize else {
            throw CheckpointError.truncated(file: fileName, context: "zip central directory lies past the end of the file")
        }
        // Each central header is at least 46 bytes: a hostile count cannot make us allocate much.
        guard count <= directorySize / 46 else {
            throw CheckpointError.badHeader(file: fileName, message: "zip directory claims \(count) entries in \(directorySize) bytes")
        }
        var reader = ByteReader(
            UnsafeRawBufferPointer(rebasing: bytes[directoryOffset ..< directoryOffset + directorySize]),
            fileName: fileName, fileOffset: directoryOffset)
        var list: [ZipEntry] = []
        list.reserveCapacity(count)
        var byName: [String: Int] = [:]
        for _ in 0 ..< count {
            let entry = try Self.readCentralHeader(&reader, bytes, fileName)
            if byName[entry.name] == nil { byName[entry.name] = list.count }
            list.append(entry)
        }
        entries = list
        entriesByName = byName
    }

    func entry(named name: String) -> ZipEntry? { entriesByName[name].map { entries[$0] } }

    /// The bytes of a stored entry (a slice of the file, not a copy).
    func data(of entry: ZipEntry) throws -> UnsafeRawBufferPointer {
        guard entry.method == 0 else {
            throw CheckpointError.badHeader(
                file: fileName, message: "zip entry \(entry.name) is compressed (method \(entry.method)); torch writes stored entries only")
        }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw CheckpointError.badHeader(file: fileName, message: "stored zip entry \(entry.name) has differing sizes")
        }
        guard entry.dataOffset <= bytes.count, entry.uncompressedSize <= bytes.count - entry.dataOffset else {
            throw CheckpointError.truncated(file: fileName, context: "zip entry \(entry.name) runs past the end of the file")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[entry.dataOffset ..< entry.dataOffset + entry.uncompressedSize])
    }

    /// (entry count, directory offset, directory size) from the end records.
    private static func locateCentralDirectory(_ bytes: UnsafeRawBufferPointer, _ fileName: String) throws -> (Int, Int, Int) {
        // The end record is 22 bytes plus a comment of at most 65535 bytes.
        let lowest = max(0, bytes.count - 22 - 65535)
        var position = bytes.count - 22
        while position >= lowest {
            if bytes.leUInt32(at: position) == endOfCentralDirectorySignature { break }
            position -= 1
        }
        guard position >= lowest, position >= 0 else {
            throw CheckpointError.truncated(file: fileName, context: "zip end-of-central-directory record not found")
        }
        var count = Int(bytes.leUInt16(at: position + 10)!)
        var size = Int(bytes.leUInt32(at: position + 12)!)
        var offset = Int(bytes.leUInt32(at: position + 16)!)
        // torch always writes the zip64 records; they hold the true values when the
        // classic fields overflow.
        let locator = position - 20
        if locator >= 0, bytes.leUInt32(at: locator) == zip64LocatorSignature {
            guard let end64 = bytes.leUInt64(at: locator + 8), end64 < UInt64(bytes.count),
                  bytes.leUInt32(at: Int(end64)) == zip64EndSignature,
                  let count64 = bytes.leUInt64(at: Int(end64) + 32),
                  let size64 = bytes.leUInt64(at: Int(end64) + 40),
                  let offset64 = bytes.leUInt64(at: Int(end64) + 48)
            else { throw CheckpointError.badHeader(file: fileName, message: "bad zip64 end record") }
            guard count64 < UInt64(Int.max), size64 < UInt64(Int.max), offset64 < UInt64(Int.max) else {
                throw CheckpointError.badHeader(file: fileName, message: "zip64 end record values out of range")
            }
            count = Int(count64); size = Int(size64); offset = Int(offset64)
        }
        return (count, offset, size)
    }

    private static func readCentralHeader(
        _ reader: inout ByteReader, _ bytes: UnsafeRawBufferPointer, _ fileName: String
    ) throws -> ZipEntry {
        guard try reader.u32("zip central header") == centralHeaderSignature else {
            throw CheckpointError.badHeader(file: fileName, message: "bad zip central header signature")
        }
        try reader.skip(6)  // versions, flags
        let method = try reader.u16()
        try reader.skip(8)  // time, date, crc32
        var compressed = UInt64(try reader.u32())
        var uncompressed = UInt64(try reader.u32())
        let nameLength = Int(try reader.u16())
        let extraLength = Int(try reader.u16())
        let commentLength = Int(try reader.u16())
        try reader.skip(8)  // disk, attributes
        var localOffset = UInt64(try reader.u32())
        let nameBytes = try reader.slice(nameLength, "zip entry name")
        let name = String(decoding: nameBytes, as: UTF8.self)
        var extra = ByteReader(try reader.slice(extraLength, "zip extra field"), fileName: fileName)
        try reader.skip(commentLength, "zip entry comment")
        // Zip64 extended information: present fields follow in a fixed order.
        while extra.remaining >= 4 {
            let id = try extra.u16()
            let length = Int(try extra.u16())
            var field = ByteReader(try extra.slice(length, "zip extra field"), fileName: fileName)
            guard id == 0x0001 else { continue }
            if uncompressed == 0xFFFF_FFFF { uncompressed = try field.u64("zip64 size") }
            if compressed == 0xFFFF_FFFF { compressed = try field.u64("zip64 size") }
            if localOffset == 0xFFFF_FFFF { localOffset = try field.u64("zip64 offset") }
        }
        let limit = UInt64(bytes.count)
        guard localOffset < limit, compressed <= limit, uncompressed <= limit else {
            throw CheckpointError.truncated(file: fileName, context: "zip entry \(name) lies past the end of the file")
        }
        // The data begins after the local header, whose name and extra lengths may
        // differ from the central copy (torch pads the local extra field for alignment).
        let local = Int(localOffset)
        guard bytes.leUInt32(at: local) == localHeaderSignature,
              let localName = bytes.leUInt16(at: local + 26), let localExtra = bytes.leUInt16(at: local + 28)
        else { throw CheckpointError.badHeader(file: fileName, message: "bad zip local header for \(name)") }
        let dataOffset = local + 30 + Int(localName) + Int(localExtra)
        return ZipEntry(name: name, method: method, dataOffset: dataOffset,
                        compressedSize: Int(compressed), uncompressedSize: Int(uncompressed))
    }
}
