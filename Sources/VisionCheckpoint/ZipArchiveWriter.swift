// A minimal zip writer: STORED entries only, each entry's data aligned to 64
// bytes by padding the local header's extra field (as torch does), CRC-32 in
// the local header (no data descriptors), classic end record.

struct ZipArchiveWriter {
    static let alignment = 64
    /// Classic zip fields are 32-bit; larger archives would need zip64 records.
    static let classicLimit = 0xFFFF_FFFF

    private struct CentralRecord {
        let name: [UInt8]
        let crc: UInt32
        let size: Int
        let localOffset: Int
    }

    let output: BinaryFileWriter
    private var records: [CentralRecord] = []
    private var fileName: String { String(output.path.split(separator: "/").last ?? "") }

    init(output: BinaryFileWriter) { self.output = output }

    /// Appends one entry whose data is the concatenation of `parts`.
    mutating func addEntry(name: String, parts: [UnsafeRawBufferPointer]) throws {
        let nameBytes = Array(name.utf8)
        var crc: UInt32 = 0
        var size = 0
        for part in parts {
            crc = CRC32.checksum(part, initial: crc)
            size += part.count
        }
        let localOffset = output.offset
        guard localOffset + size < Self.classicLimit else {
            throw CheckpointError.io(file: fileName, message: "archive exceeds 4 GiB, which this writer does not support")
        }
        var padding = (Self.alignment - (localOffset + 30 + nameBytes.count) % Self.alignment) % Self.alignment
        if padding > 0 && padding < 4 { padding += Self.alignment }  // an extra field needs a 4-byte header
        var header: [UInt8] = []
        header.reserveCapacity(30 + nameBytes.count + padding)
        appendLE(&header, UInt32(0x0403_4b50))
        appendLE(&header, UInt16(20))  // version needed
        appendLE(&header, UInt16(0))  // flags
        appendLE(&header, UInt16(0))  // stored
        appendLE(&header, UInt16(0))  // time
        appendLE(&header, UInt16(0x21))  // date: 1980-01-01
        appendLE(&header, crc)
        appendLE(&header, UInt32(size))
        appendLE(&header, UInt32(size))
        appendLE(&header, UInt16(nameBytes.count))
        appendLE(&header, UInt16(padding))
        header += nameBytes
        if padding > 0 {
            appendLE(&header, UInt16(0x4246))  // "FB", torch's padding field id
            appendLE(&header, UInt16(padding - 4))
            header += [UInt8](repeating: UInt8(ascii: "Z"), count: padding - 4)
        }
        try output.write(header)
        for part in parts { try output.write(part) }
        records.append(CentralRecord(name: nameBytes, crc: crc, size: size, localOffset: localOffset))
    }

    mutating func addEntry(name: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try addEntry(name: name, parts: [$0]) }
    }

    /// Writes the central directory and end record.
    func finish() throws {
        let directoryOffset = output.offset
        var directory: [UInt8] = []
        for record in records {
            appendLE(&directory, UInt32(0x0201_4b50))
            appendLE(&directory, UInt16(20))  // version made by
            appendLE(&directory, UInt16(20))  // version needed
            appendLE(&directory, UInt16(0))  // flags
            appendLE(&directory, UInt16(0))  // stored
            appendLE(&directory, UInt16(0))  // time
            appendLE(&directory, UInt16(0x21))  // date
            appendLE(&directory, record.crc)
            appendLE(&directory, UInt32(record.size))
            appendLE(&directory, UInt32(record.size))
            appendLE(&directory, UInt16(record.name.count))
            appendLE(&directory, UInt16(0))  // extra
            appendLE(&directory, UInt16(0))  // comment
            appendLE(&directory, UInt16(0))  // disk
            appendLE(&directory, UInt16(0))  // internal attributes
            appendLE(&directory, UInt32(0))  // external attributes
            appendLE(&directory, UInt32(record.localOffset))
            directory += record.name
        }
        guard directoryOffset + directory.count < Self.classicLimit, records.count < 0xFFFF else {
            throw CheckpointError.io(file: fileName, message: "archive exceeds classic zip limits")
        }
        let directorySize = directory.count
        appendLE(&directory, UInt32(0x0605_4b50))
        appendLE(&directory, UInt16(0))  // this disk
        appendLE(&directory, UInt16(0))  // directory disk
        appendLE(&directory, UInt16(records.count))
        appendLE(&directory, UInt16(records.count))
        appendLE(&directory, UInt32(directorySize))
        appendLE(&directory, UInt32(directoryOffset))
        appendLE(&directory, UInt16(0))  // comment length
        try output.write(directory)
    }
}

@inline(__always)
func appendLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}
