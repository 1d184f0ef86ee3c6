// Decoding JPEG and PNG files to RGBImage through the CImageCodecs shim.
// The format is chosen from the file's signature bytes, never its extension.

import CImageCodecs
import Foundation
import VisionCore

/// The encoded formats this module reads and writes.
public enum ImageFormat: String, Sendable {
    case jpeg = "JPEG"
    case png = "PNG"

    /// The format whose signature starts `bytes`, or nil.
    public static func detect<Bytes: Collection>(_ bytes: Bytes) -> ImageFormat? where Bytes.Element == UInt8 {
        let head = Array(bytes.prefix(8))
        if head.count >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF { return .jpeg }
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        return nil
    }
}

public enum ImageDecoder {
    /// Images above this many pixels are refused unless the caller raises the
    /// limit (100 MP: 300 MB of RGB, 1.2 GB as a Float32 tensor).
    public static let defaultMaxPixels = 100_000_000

    /// Reads and decodes a JPEG or PNG file. JPEG EXIF orientation is applied
    /// unless `applyExifOrientation` is false. Errors name `url.path`.
    public static func decode(contentsOf url: URL, maxPixels: Int = defaultMaxPixels,
                              applyExifOrientation: Bool = true) throws -> RGBImage {
        let data: Data
        do {
            data = try FileContents.data(of: url)
        } catch {
            throw ImageError(file: url.path, reason: .io("cannot read file (\(error.localizedDescription))"))
        }
        return try decode(data: data, name: url.path, maxPixels: maxPixels,
                          applyExifOrientation: applyExifOrientation)
    }

    /// Decodes JPEG or PNG bytes held in memory; `name` is used in errors.
    public static func decode(data: Data, name: String, maxPixels: Int = defaultMaxPixels,
                              applyExifOrientation: Bool = true) throws -> RGBImage {
        if data.isEmpty { throw ImageError(file: name, reason: .emptyFile) }
        guard let format = ImageFormat.detect(data) else {
            throw ImageError(file: name, reason: .unknownFormat)
        }
        var decoded = vision_decoded_image()
        defer { vision_codec_release_image(&decoded) }
        let status: Int32 = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self).baseAddress!
            switch format {
            case .jpeg: return vision_decode_jpeg(bytes, raw.count, Int64(maxPixels), &decoded)
            case .png: return vision_decode_png(bytes, raw.count, Int64(maxPixels), &decoded)
            }
        }
        if status != VISION_CODEC_OK {
            throw ImageError(file: name, reason: failureReason(status: status, format: format, decoded: &decoded,
                                                              maxPixels: maxPixels))
        }

        let width = Int(decoded.width), height = Int(decoded.height)
        let pixels = [UInt8](UnsafeBufferPointer(start: decoded.pixels, count: width * height * 3))
        let image = RGBImage(width: width, height: height, pixels: pixels)
        guard applyExifOrientation, let exif = decoded.exif, decoded.exif_size > 0 else { return image }
        let tiff = UnsafeBufferPointer(start: exif, count: decoded.exif_size)
        guard let orientation = ExifOrientation(tiff: tiff) else { return image }
        return orientation.apply(to: image)
    }

    private static func failureReason(status: Int32, format: ImageFormat, decoded: inout vision_decoded_image,
                                      maxPixels: Int) -> ImageError.Reason {
        let message = withUnsafeBytes(of: &decoded.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch Int(status) {
        case Int(VISION_CODEC_TOO_LARGE):
            return .tooLarge(width: Int(decoded.width), height: Int(decoded.height), limit: maxPixels)
        case Int(VISION_CODEC_TRUNCATED):
            return .truncated(format: format.rawValue, detail: message)
        case Int(VISION_CODEC_OUT_OF_MEMORY):
            return .outOfMemory
        default:
            return .corrupt(format: format.rawValue, detail: message)
        }
    }
}
