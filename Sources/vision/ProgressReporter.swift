// Progress of a long batch on standard error: a redrawn bar (done/total,
// images/s, ETA) when stderr is a terminal, a plain line every 5 s or every
// 100 images when it is a file or a pipe (logs stay readable), nothing with --quiet.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class ProgressReporter {
    enum Mode { case bar, lines, silent }

    let total: Int
    let mode: Mode
    /// What `total` counts: "images", or "files" when videos are among them.
    let unit: String
    /// Video frames processed so far (shown with their rate when any).
    private var frames = 0
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastLineCount = 0
    private var barVisible = false

    init(total: Int, quiet: Bool, unit: String = "images") {
        self.total = total
        self.unit = unit
        mode = quiet ? .silent : (isatty(STDERR_FILENO) != 0 ? .bar : .lines)
    }

    /// Called after each image or video frame with the numbers done so far (this run).
    func update(done: Int, frames: Int = 0) {
        let now = Date()
        self.frames = frames
        switch mode {
        case .silent:
            return
        case .bar:
            guard done == total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            let width = 30
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            Standard.error("\r\u{1B}[2K[\(bar)] \(status(done: done, now: now))", newline: false)
            barVisible = true
        case .lines:
            guard done == total || done - lastLineCount >= 100 || now.timeIntervalSince(lastDraw) >= 5 else { return }
            lastDraw = now
            lastLineCount = done
            Standard.error("progress: \(status(done: done, now: now))")
        }
    }

    /// Prints a message (a per-image error) without breaking the bar.
    func message(_ text: String) {
        if barVisible { Standard.error("\r\u{1B}[2K", newline: false); barVisible = false; lastDraw = .distantPast }
        Standard.error(text)
    }

    /// Ends the bar's line so what follows starts on a fresh one.
    func finish() {
        if barVisible { Standard.error(""); barVisible = false }
    }

    var elapsed: TimeInterval { Date().timeIntervalSince(start) }

    private func status(done: Int, now: Date) -> String {
        let seconds = now.timeIntervalSince(start)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = "\(done)/\(total) \(unit), " + String(format: "%.1f", rate) + " \(unit == "images" ? "img" : unit)/s"
        if frames > 0 { text += ", \(frames) frames, " + String(format: "%.1f", seconds > 0 ? Double(frames) / seconds : 0) + " frames/s" }
        if done < total, rate > 0 { text += ", ETA " + ProgressReporter.duration(Double(total - done) / rate) }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }
}

/// Unbuffered writes to the standard streams (progress must show at once, and a
/// killed run must not lose buffered text).
enum Standard {
    static func error(_ text: String, newline: Bool = true) {
        FileHandle.standardError.write(Data((newline ? text + "\n" : text).utf8))
    }
}
