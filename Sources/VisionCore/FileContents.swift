// Reading a whole annotation, label or image file. swift-foundation 6.3 leaks a
// 4 KiB buffer on every read of an empty file (Data(contentsOf:),
// String(contentsOf:) and FileManager.contents(atPath:) alike; found by
// Tests/Fuzz), which a dataset of many empty label files turns into real
// memory. An empty regular file is answered here without that reader; pipes and
// other special files (size 0 but not empty) still go through Foundation.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum FileContents {
    /// The bytes of `url`; throws what `Data(contentsOf:options:)` throws.
    public static func data(of url: URL, options: Data.ReadingOptions = []) throws -> Data {
        if isEmptyRegularFile(url) { return Data() }
        return try Data(contentsOf: url, options: options)
    }

    /// The file as UTF-8 text, or nil when it cannot be read or is not UTF-8.
    public static func utf8Text(of url: URL) -> String? {
        if isEmptyRegularFile(url) { return "" }
        return try? String(contentsOf: url, encoding: .utf8)
    }

    private static func isEmptyRegularFile(_ url: URL) -> Bool {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFREG && info.st_size == 0
    }
}
