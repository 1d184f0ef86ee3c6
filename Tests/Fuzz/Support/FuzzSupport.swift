// Shared by every libFuzzer target in Tests/Fuzz (compiled into each one).
// A target may throw any error the parser documents; what it must never do is
// crash, hang, leak or allocate past libFuzzer's limits. Errors must also keep
// the house contract: a one-line message naming the file. `requireNamed` turns a
// message that does not into a crash, so libFuzzer records the input.

import Foundation
import VisionCore

/// The fuzz input as a `Data` (one copy; libFuzzer owns the original buffer).
func fuzzData(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> Data {
    Data(bytes: bytes, count: size)
}

/// Aborts (so libFuzzer saves the input) when the message of `error` (an Error
/// or a DatasetProblem) does not name
/// `file` or spans several lines.
func requireNamed(_ error: Any, _ file: String, target: String) {
    let text = String(describing: error)
    // Messages show control characters in names escaped (singleLine).
    guard text.contains(singleLine(file)), !text.contains("\n") else {
        fatalError("\(target): error message does not name \(file) on one line: \(text)")
    }
}

/// A per-process scratch folder (under /dev/shm when it exists, so writes stay in
/// memory) for parsers that read from paths. Removed by the OS with the run's
/// other temporary files; every execution overwrites the same few files.
let fuzzScratch: URL = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let url = URL(fileURLWithPath: base).appendingPathComponent("vision-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()

/// Writes `data` to `relativePath` inside the scratch folder and returns its URL.
func scratchFile(_ relativePath: String, _ data: Data) -> URL {
    let url = fuzzScratch.appendingPathComponent(relativePath)
    try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    do {
        try data.write(to: url)
    } catch {
        fatalError("cannot write the fuzz scratch file \(url.path): \(error)")
    }
    return url
}

/// A fuzz invariant: aborts with `message` (kept in -O builds, unlike precondition's).
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
