// Image dimensions read from a JPEG or PNG header without decoding the pixels.
// The size is the one the decoder produces: a JPEG's EXIF orientation 5-8 swaps
// width and height, as annotation tools show (and annotate) the upright image.

import Foundation
import VisionCore
import VisionImaging

enum ImageHeader {
    /// What a look at the header found.
    enum Probe: Equatable {
        case missing
        /// The file exists but is no readable JPEG or PNG; the text says why.
        case unreadable(String)
        case size(width: Int, height: Int)
    }

    /// (width, height) as displayed (EXIF orientation applied), or nil when the
    /// file is missing, unreadable or neither JPEG nor PNG.
    static func size(of url: URL) -> (width: Int, height: Int)? {
        if case let .size(width, height) = probe(url) { return (width, height) }
        return nil
    }

    static func probe(_ url: URL) -> Probe {
        guard FileManager.default.fileExists(atPath: url.path) else { return .missing }
        guard let data = try? FileContents.data(of: url, options: .alwaysMapped) else { return .unreadable("cannot read the file") }
        if data.isEmpty { return .unreadable("empty file") }
        return data.withUnsafeBytes { raw -> Probe in
            let bytes = raw.bindMemory(to: UInt8.self)
            if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 {
                // PNG: signature (8), IHDR length (4), "IHDR" (4), width (4, BE), height (4, BE).
                guard bytes.count >= 24 else { return .unreadable("truncated PNG header") }
                let width = Int(bigEndian32(bytes, 16)), height = Int(bigEndian32(bytes, 20))
                return width > 0 && height > 0 ? .size(width: width, height: height) : .unreadable("PNG header without a size")
            }
            if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
                guard let (width, height) = jpegSize(bytes) else { return .unreadable("no image size in the JPEG header (truncated?)") }
                return .size(width: width, height: height)
            }
            return .unreadable("not a JPEG or PNG image")
        }
    }

    private static func bigEndian32(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    /// Walks the JPEG marker segments up to the first start-of-frame (SOF0-SOF15
    /// except DHT C4, JPG C8 and DAC CC), whose payload holds height then width.
    /// The first APP1 "Exif" segment before it gives the orientation, as in the decoder.
    private static func jpegSize(_ b: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
        var i = 2
        var orientation: ExifOrientation?
        var sawExif = false
        while i + 3 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if marker == 0xE1 && !sawExif {
                let start = i + 4, end = min(i + 2 + length, b.count)
                let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
                if end - start >= 6 && Array(b[start..<start + 6]) == exifHeader {
                    sawExif = true
                    orientation = ExifOrientation(tiff: Array(b[(start + 6)..<end]))
                }
            }
            if (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
                guard i + 8 < b.count else { return nil }
                let height = Int(b[i + 5]) << 8 | Int(b[i + 6])
                let width = Int(b[i + 7]) << 8 | Int(b[i + 8])
                guard width > 0 && height > 0 else { return nil }
                return orientation?.swapsAxes == true ? (height, width) : (width, height)
            }
            if marker == 0xD9 || marker == 0xDA || length < 2 { return nil }
            i += 2 + length
        }
        return nil
    }
}
