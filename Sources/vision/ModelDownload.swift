// Fetching a published model into the store: streamed to a temporary file beside
// its destination (memory stays flat), hashed with swift-crypto's SHA-256 as the
// bytes arrive, and renamed into place only when the hash matches the definition's
// prefix, so the store never holds a partial or wrong file. VISION_OFFLINE=1
// forbids the network; the error then says which file to put where.

import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VisionDetection

enum ModelDownload {
    /// True when VISION_OFFLINE is set to anything but "" or "0".
    static var offline: Bool {
        let value = ProcessInfo.processInfo.environment["VISION_OFFLINE"] ?? ""
        return !value.isEmpty && value != "0"
    }

    /// Downloads `model` into its store path; returns the file's SHA-256 in hex.
    @discardableResult
    static func fetch(_ model: ModelStore.Published, quiet: Bool) throws -> String {
        let destination = model.storePath
        guard !offline else {
            throw CheckpointCommandError.offline(name: model.name, url: model.url.absoluteString, path: destination.path)
        }
        let directory = destination.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointCommandError.io(path: directory.path, reason: error.localizedDescription)
        }
        let temporary = directory.appendingPathComponent(".\(destination.lastPathComponent).part-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: temporary) }

        let progress = DownloadProgress(label: "downloading \(model.name)", quiet: quiet)
        let actual = try HTTPDownloader.download(model.url, to: temporary, progress: progress).hex
        progress.finish()
        guard !model.sha256Prefix.isEmpty else {
            throw CheckpointCommandError.checksum(url: model.url.absoluteString, expected: "(no sha256Prefix in the model definition)", actual: actual)
        }
        guard actual.hasPrefix(model.sha256Prefix) else {
            throw CheckpointCommandError.checksum(url: model.url.absoluteString, expected: model.sha256Prefix, actual: actual)
        }
        try AtomicFile.replace(destination, with: temporary)
        return actual
    }
}

extension SHA256Digest {
    /// Lower-case hex, as torchvision's file names and `sha256sum` write it.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// Byte counts on standard error: redrawn on a terminal, a line every 10% otherwise.
final class DownloadProgress: @unchecked Sendable {
    private let label: String
    private let mode: ProgressReporter.Mode
    private var lastDraw = Date.distantPast
    private var lastTenth = -1
    private var drawn = false

    init(label: String, quiet: Bool) {
        self.label = label
        mode = quiet ? .silent : (isatty(STDERR_FILENO) != 0 ? .bar : .lines)
    }

    func update(received: Int64, expected: Int64) {
        let mib = String(format: "%.1f", Double(received) / 1_048_576)
        let of = expected > 0 ? String(format: " of %.1f MiB (%d%%)", Double(expected) / 1_048_576, Int(100 * received / expected)) : " MiB"
        switch mode {
        case .silent: return
        case .bar:
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.1 || received == expected else { return }
            lastDraw = now
            Standard.error("\r\u{1B}[2K\(label): \(mib)\(expected > 0 ? of : " MiB")", newline: false)
            drawn = true
        case .lines:
            let tenth = expected > 0 ? Int(10 * received / expected) : Int(received >> 24)
            guard tenth != lastTenth else { return }
            lastTenth = tenth
            Standard.error("\(label): \(mib)\(expected > 0 ? of : " MiB")")
        }
    }

    func finish() { if drawn { Standard.error("") } }
}

/// One GET streamed to a file through URLSession's data delegate; returns the SHA-256.
final class HTTPDownloader: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let destination: FileHandle
    private let progress: DownloadProgress
    private let done = DispatchSemaphore(value: 0)
    private var hasher = SHA256()
    private var received: Int64 = 0
    private var expected: Int64 = -1
    private var failure: String?

    private init(destination: FileHandle, progress: DownloadProgress) {
        self.destination = destination
        self.progress = progress
    }

    static func download(_ url: URL, to file: URL, progress: DownloadProgress) throws -> SHA256Digest {
        guard FileManager.default.createFile(atPath: file.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: file) else {
            throw CheckpointCommandError.io(path: file.path, reason: "cannot create the temporary file")
        }
        defer { try? handle.close() }
        let downloader = HTTPDownloader(destination: handle, progress: progress)
        let delegateQueue = OperationQueue()
        delegateQueue.maxConcurrentOperationCount = 1  // delegate calls in order, one at a time
        let session = URLSession(configuration: .ephemeral, delegate: downloader, delegateQueue: delegateQueue)
        session.dataTask(with: url).resume()
        downloader.done.wait()
        session.finishTasksAndInvalidate()
        if let failure = downloader.failure { throw CheckpointCommandError.download(url: url.absoluteString, reason: failure) }
        return downloader.hasher.finalize()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            failure = "HTTP \(http.statusCode)"
            completionHandler(.cancel)
            return
        }
        expected = response.expectedContentLength
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        do {
            try destination.write(contentsOf: data)
        } catch {
            failure = "cannot write the temporary file (\(error.localizedDescription))"
            dataTask.cancel()
            return
        }
        hasher.update(data: data)
        received += Int64(data.count)
        progress.update(received: received, expected: expected)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if failure == nil, let error { failure = error.localizedDescription }
        if failure == nil, expected > 0, received != expected {
            failure = "got \(received) of \(expected) bytes"
        }
        done.signal()
    }
}
