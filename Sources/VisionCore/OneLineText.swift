// Error messages are one line, but they quote what a file or a request said:
// tensor keys, zip entry names, option values, file names. Those may hold line
// breaks or other control characters; a message shows them escaped instead.

/// `text` with line breaks and other control characters (C0, DEL, C1, U+2028,
/// U+2029) written as visible escapes (\n, \r, \t, \u{1b}), so that a message
/// quoting it stays on one line and prints nothing invisible. Other text is unchanged.
public func singleLine(_ text: String) -> String {
    func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
    guard text.unicodeScalars.contains(where: needsEscape) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where needsEscape(scalar): out += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
