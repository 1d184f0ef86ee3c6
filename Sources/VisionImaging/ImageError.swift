// Errors from decoding, encoding and writing images. Each names the file.

import VisionCore

/// An image could not be read, decoded, encoded or written. `description`
/// reads "<file>: <reason>", e.g. "photo.jpg: truncated JPEG data".
public struct ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// The file has zero bytes.
        case emptyFile
        /// The leading bytes are neither a JPEG nor a PNG signature.
        case unknownFormat
        /// The data ends before the image does.
        case truncated(format: String, detail: String)
        /// The codec rejected the data; `detail` is the library's message.
        case corrupt(format: String, detail: String)
        /// The header declares more pixels than the caller allows.
        case tooLarge(width: Int, height: Int, limit: Int)
        case outOfMemory
        /// Reading or writing the file itself failed.
        case io(String)
        /// `write(to:)` was given an extension other than .jpg, .jpeg or .png.
        case unsupportedExtension(String)
        case encodingFailed(format: String, detail: String)
    }

    /// The file's path, or the name given with in-memory data.
    public let file: String
    public let reason: Reason

    public init(file: String, reason: Reason) {
        self.file = file
        self.reason = reason
    }

    /// One line: a file name or codec message with control characters shows them escaped.
    public var description: String { singleLine("\(file): \(reasonText)") }

    private var reasonText: String {
        switch reason {
        case .emptyFile:
            return "empty file"
        case .unknownFormat:
            return "not a JPEG or PNG image"
        case let .truncated(format, detail):
            return detail.isEmpty ? "truncated \(format) data" : "truncated \(format) data (\(detail))"
        case let .corrupt(format, detail):
            return "corrupt \(format) data: \(detail)"
        case let .tooLarge(width, height, limit):
            return "\(width)x\(height) pixels exceeds the limit of \(limit) pixels"
        case .outOfMemory:
            return "out of memory while decoding"
        case let .io(detail):
            return detail
        case let .unsupportedExtension(ext):
            return "cannot choose an image format for extension '\(ext)' (use .jpg, .jpeg or .png)"
        case let .encodingFailed(format, detail):
            return "\(format) encoding failed: \(detail)"
        }
    }
}
