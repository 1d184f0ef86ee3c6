// multipart/form-data (RFC 7578) as browsers and curl -F send it: the parts of an
// already size-limited body, each with its name, optional filename and bytes.
// Anything that does not parse is a MultipartError, answered as a 400.

import Foundation

struct MultipartPart {
    let name: String
    let filename: String?
    let contentType: String?
    let body: Data
}

struct MultipartError: Error, CustomStringConvertible {
    let description: String
}

enum MultipartForm {
    /// The boundary parameter of a multipart/form-data Content-Type, or nil for another type.
    static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let type = pieces.first, type.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            return unquote(pair[1])
        }
        return ""
    }

    static func parse(_ body: Data, boundary: String) throws -> [MultipartPart] {
        guard !boundary.isEmpty, boundary.utf8.count <= 70 else {
            throw MultipartError(description: "malformed multipart body: missing or invalid boundary in Content-Type")
        }
        let delimiter = Data(("--" + boundary).utf8)
        let bytes = body
        guard var cursor = bytes.range(of: delimiter)?.upperBound else {
            throw MultipartError(description: "malformed multipart body: the boundary never occurs")
        }
        var parts: [MultipartPart] = []
        let crlf = Data("\r\n".utf8), headerEnd = Data("\r\n\r\n".utf8)
        let nextDelimiter = Data(("\r\n--" + boundary).utf8)
        while true {
            // After a delimiter: "--" closes the body, CRLF starts a part.
            if bytes[cursor...].starts(with: Data("--".utf8)) { return parts }
            guard bytes[cursor...].starts(with: crlf) else {
                throw MultipartError(description: "malformed multipart body: unexpected bytes after a boundary")
            }
            cursor += 2
            guard let headersEnd = bytes.range(of: headerEnd, in: cursor..<bytes.endIndex) else {
                throw MultipartError(description: "malformed multipart body: a part's headers never end")
            }
            let headerText = String(decoding: bytes[cursor..<headersEnd.lowerBound], as: UTF8.self)
            guard let end = bytes.range(of: nextDelimiter, in: headersEnd.upperBound..<bytes.endIndex) else {
                throw MultipartError(description: "malformed multipart body: a part is not closed by the boundary (truncated upload?)")
            }
            parts.append(try part(headers: headerText, body: bytes[headersEnd.upperBound..<end.lowerBound]))
            cursor = end.upperBound
        }
    }

    private static func part(headers: String, body: Data) throws -> MultipartPart {
        var name: String?, filename: String?, contentType: String?
        for line in headers.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if field == "content-type" { contentType = value }
            guard field == "content-disposition" else { continue }
            for parameter in value.split(separator: ";").dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2 else { continue }
                if pair[0].lowercased() == "name" { name = unquote(pair[1]) }
                if pair[0].lowercased() == "filename" { filename = unquote(pair[1]) }
            }
        }
        guard let name else { throw MultipartError(description: "malformed multipart body: a part has no Content-Disposition name") }
        return MultipartPart(name: name, filename: filename, contentType: contentType, body: Data(body))
    }

    private static func unquote(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        return String(text.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
    }
}
