// File-name pieces of names read from annotation and prediction files. Written
// out because swift-corelibs-foundation's NSString.pathExtension and
// lastPathComponent trap on some names, e.g. "a///0///" (found by Tests/Fuzz in a
// CSV image name), and these names come from file contents, not the file system.

enum PathText {
    /// The last non-empty "/"-separated component: "b.jpg" for "a/b.jpg" and
    /// "a/b.jpg/"; "/" for "/"; "" for "".
    static func lastComponent(_ name: String) -> String {
        name.split(separator: "/").last.map(String.init) ?? (name.isEmpty ? "" : "/")
    }

    /// Whether the last component has an extension: a "." that is neither its
    /// first nor its last character ("a.jpg" yes; "a", ".hidden", "a." and "a.d/b" no).
    static func hasExtension(_ name: String) -> Bool {
        let component = lastComponent(name)
        guard let dot = component.lastIndex(of: ".") else { return false }
        return dot != component.startIndex && component.index(after: dot) != component.endIndex
    }
}
