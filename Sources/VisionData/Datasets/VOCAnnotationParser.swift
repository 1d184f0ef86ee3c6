// Parses one Pascal VOC annotation XML with Foundation's XMLParser.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The parts of a VOC annotation the readers use. Coordinates stay as written.
struct VOCAnnotation {
    struct Object {
        var name: String?
        var difficult = false
        /// xmin, ymin, xmax, ymax; nil where missing or not a number.
        var coordinates: [Double?] = [nil, nil, nil, nil]
    }
    var filename: String?
    /// Where the annotation tool found the image (often an absolute path on another machine).
    var path: String?
    var width = 0
    var height = 0
    var objects: [Object] = []
}

enum VOCAnnotationParser {
    /// Throws a message (without the file name) when the XML is malformed.
    static func parse(_ data: Data) throws -> VOCAnnotation {
        if let offset = invalidUTF8Offset(data) {
            throw DatasetError.unreadable("", reason: "malformed XML: byte \(offset) is not UTF-8 text "
                + "(save the file as UTF-8, or name its encoding in <?xml ... encoding=\"...\"?>)")
        }
        if let target = emptyProcessingInstruction(data) {
            throw DatasetError.unreadable("", reason: "malformed XML: processing instruction <?\(target)?> has no data (not supported)")
        }
        let delegate = Delegate()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse() else {
            // libxml2's line and column, captured when the error was raised; Foundation's
            // localizedDescription only says "NSXMLParserErrorDomain error 76".
            let code = (parser.parserError as NSError?)?.code ?? delegate.errorCode ?? -1
            let (line, column) = delegate.errorPosition ?? (parser.lineNumber, parser.columnNumber)
            throw DatasetError.unreadable("", reason: "malformed XML at line \(line), column \(column): \(describe(code))")
        }
        // libxml2 accepts a document cut off inside open elements; refuse it here.
        guard delegate.openElements == 0 else {
            throw DatasetError.unreadable("", reason: "malformed XML: the file ends inside <\(delegate.innermostOpen)>")
        }
        guard delegate.sawAnnotation else {
            throw DatasetError.unreadable("", reason: "no <annotation> element")
        }
        return delegate.annotation
    }

    /// libxml2 passes the bytes of element names on to FoundationXML, which traps on
    /// a name that is not UTF-8 ("<obj\u{e9}ct>" in Latin-1; found by Tests/Fuzz). So a
    /// document libxml2 reads as UTF-8 (no UTF-16 byte order and no declaration of
    /// another encoding, which libxml2 converts itself) is checked first: the offset
    /// of its first byte that is not UTF-8, or nil.
    static func invalidUTF8Offset(_ data: Data) -> Int? {
        let head = Array(data.prefix(200))
        if head.starts(with: [0xFE, 0xFF]) || head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0x00, 0x3C])
            || head.starts(with: [0x3C, 0x00]) { return nil }
        let declaration = String(decoding: head, as: UTF8.self).lowercased()
        if declaration.hasPrefix("<?xml"), let close = declaration.range(of: "?>"),
           let encoding = declaration[..<close.lowerBound].range(of: "encoding") {
            let value = declaration[encoding.upperBound..<close.lowerBound]
                .drop { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" }.prefix { $0 != "\"" && $0 != "'" && $0 != " " }
            if value != "utf-8" && value != "utf8" { return nil }
        }
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = data.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &bytes) {
            case let .valid(scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// The target of the first processing instruction without data ("<?name?>"), or
    /// nil. libxml2 reports its data as NULL and FoundationXML calls strlen on it, a
    /// segfault (found by Tests/Fuzz: "<?xdifficult?>"). Annotations have no use for
    /// processing instructions; such a file (or one quoting the pattern in a comment) is refused.
    static func emptyProcessingInstruction(_ data: Data) -> String? {
        let bytes = [UInt8](data)
        var i = 0
        while i + 1 < bytes.count {
            defer { i += 1 }
            guard bytes[i] == UInt8(ascii: "<"), bytes[i + 1] == UInt8(ascii: "?") else { continue }
            var end = i + 2
            while end < bytes.count, ![UInt8(ascii: "?"), UInt8(ascii: ">"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[end]) { end += 1 }
            if end > i + 2, end + 1 < bytes.count, bytes[end] == UInt8(ascii: "?"), bytes[end + 1] == UInt8(ascii: ">") {
                return String(decoding: bytes[(i + 2)..<end], as: UTF8.self)
            }
        }
        return nil
    }

    /// Words for the libxml2 error codes (xmlParserErrors, which XMLParser
    /// reports as its error code) that hand-edited or cut-off files produce.
    static func describe(_ code: Int) -> String {
        switch code {
        case 4, 5: return "the document is empty or ends too early"
        case 9: return "an invalid character"
        case 14...17, 22, 23, 26, 27: return "a malformed entity reference (write & as &amp;)"
        case 38: return "a '<' inside an attribute value"
        case 39...42: return "a malformed attribute"
        case 34, 44: return "an unclosed quote"
        case 45: return "an unclosed comment"
        case 68: return "a malformed tag name"
        case 73: return "a tag not closed by '>'"
        case 76: return "a closing tag that does not match the open element"
        case 77, 85: return "an element that is never closed"
        case 86: return "content after the root element"
        case 31, 32, 79, 81: return "text not in the declared encoding"
        default: return "XML error \(code)"
        }
    }

    /// Collects text of the elements of interest by their path of element names.
    private final class Delegate: NSObject, XMLParserDelegate {
        var annotation = VOCAnnotation()
        var sawAnnotation = false
        private var path: [String] = []
        var openElements: Int { path.count }
        var innermostOpen: String { path.last ?? "" }
        private var text = ""
        private var object: VOCAnnotation.Object?
        var errorPosition: (Int, Int)?
        var errorCode: Int?

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            if errorPosition == nil {
                errorPosition = (parser.lineNumber, parser.columnNumber)
                errorCode = (parseError as NSError).code
            }
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "annotation" && path.isEmpty { sawAnnotation = true }
            path.append(name)
            text = ""
            // Objects nested in objects (VOC "part" elements) are not separate objects.
            if name == "object" && path.count == 2 { object = VOCAnnotation.Object() }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            let p = path
            if p.count == 2 && name == "filename" { annotation.filename = value }
            if p.count == 2 && name == "path" { annotation.path = value }
            if p.count == 3 && p[1] == "size" {
                if name == "width" { annotation.width = Int(Double(value) ?? 0) }
                if name == "height" { annotation.height = Int(Double(value) ?? 0) }
            }
            if p.count == 3 && p[1] == "object" {
                if name == "name" { object?.name = value }
                if name == "difficult" { object?.difficult = (Int(value) ?? 0) != 0 }
            }
            if p.count == 4 && p[1] == "object" && p[2] == "bndbox",
               let index = ["xmin", "ymin", "xmax", "ymax"].firstIndex(of: name) {
                object?.coordinates[index] = Double(value)
            }
            if p.count == 2 && name == "object", let finished = object {
                annotation.objects.append(finished)
                object = nil
            }
            path.removeLast()
            text = ""
        }
    }
}
