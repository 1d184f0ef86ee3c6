// Image dimensions read from a JPEG or PNG header without decoding the pixels,
// for formats whose annotations do not state the image size (YOLO, some CSVs).

import Foundation

enum ImageHeader {
    /// (width, height) as stored in the file (EXIF orientation is not applied),
    /// or nil when the file is missing, unreadable or neither JPEG nor PNG.
    static func size(of url: URL) -> (width: Int, height: Int)? {
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else { return nil }
        return data.withUnsafeBytes { raw -> (Int, Int)? in
            let bytes = raw.bindMemory(to: UInt8.self)
            if bytes.count >= 24, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 {
                // PNG: signature (8), IHDR length (4), "IHDR" (4), width (4, BE), height (4, BE).
                let width = Int(bigEndian32(bytes, 16)), height = Int(bigEndian32(bytes, 20))
                return width > 0 && height > 0 ? (width, height) : nil
            }
            if bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 { return jpegSize(bytes) }
            return nil
        }
    }

    private static func bigEndian32(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    /// Walks the JPEG marker segments up to the first start-of-frame (SOF0-SOF15
    /// except DHT C4, JPG C8 and DAC CC), whose payload holds height then width.
    private static func jpegSize(_ b: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
        var i = 2
        while i + 3 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
                guard i + 8 < b.count else { return nil }
                let height = Int(b[i + 5]) << 8 | Int(b[i + 6])
                let width = Int(b[i + 7]) << 8 | Int(b[i + 8])
                return width > 0 && height > 0 ? (width, height) : nil
            }
            if marker == 0xD9 || marker == 0xDA || length < 2 { return nil }
            i += 2 + length
        }
        return nil
    }
}
