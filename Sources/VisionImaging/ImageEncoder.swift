// Encoding RGBImage to JPEG or PNG bytes and writing image files.

import CImageCodecs
import Foundation

extension RGBImage {
    /// Baseline JPEG (4:2:0 chroma subsampling), `quality` 1...100; `comment` goes
    /// into a COM marker near the start of the file.
    public func encodeJPEG(quality: Int = 90, name: String = "<memory>", comment: String? = nil) throws -> Data {
        try encode(format: .jpeg, name: name) { rgb, out in
            withOptionalCString(comment) { vision_encode_jpeg(rgb, Int32(width), Int32(height), Int32(quality), $0, out) }
        }
    }

    /// Lossless 8-bit RGB PNG; `comment` goes into a tEXt chunk before the pixels.
    public func encodePNG(name: String = "<memory>", comment: String? = nil) throws -> Data {
        try encode(format: .png, name: name) { rgb, out in
            withOptionalCString(comment) { vision_encode_png(rgb, Int32(width), Int32(height), $0, out) }
        }
    }

    /// Writes a JPEG for .jpg/.jpeg and a PNG for .png (case-insensitive).
    public func write(to url: URL, jpegQuality: Int = 90, comment: String? = nil) throws {
        let data: Data
        switch url.pathExtension.lowercased() {
        case "jpg", "jpeg": data = try encodeJPEG(quality: jpegQuality, name: url.path, comment: comment)
        case "png": data = try encodePNG(name: url.path, comment: comment)
        default: throw ImageError(file: url.path, reason: .unsupportedExtension(url.pathExtension))
        }
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ImageError(file: url.path, reason: .io("cannot write file (\(error.localizedDescription))"))
        }
    }

    private func withOptionalCString(_ text: String?, _ body: (UnsafePointer<CChar>?) -> Int32) -> Int32 {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }

    private func encode(format: ImageFormat, name: String,
                        _ call: (UnsafePointer<UInt8>, UnsafeMutablePointer<vision_encoded_buffer>) -> Int32) throws -> Data {
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw ImageError(file: name, reason: .encodingFailed(format: format.rawValue,
                                                                 detail: "cannot encode a \(width)x\(height) image"))
        }
        var buffer = vision_encoded_buffer()
        defer { vision_codec_release_buffer(&buffer) }
        let status = pixels.withUnsafeBufferPointer { call($0.baseAddress!, &buffer) }
        guard status == VISION_CODEC_OK, let bytes = buffer.bytes else {
            let message = withUnsafeBytes(of: &buffer.message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            throw ImageError(file: name, reason: .encodingFailed(format: format.rawValue, detail: message))
        }
        return Data(bytes: bytes, count: buffer.size)
    }
}
