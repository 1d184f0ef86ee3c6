// The folder a `--report DIR` writes into. Never overwrite a user's file: DIR must
// be new, empty, or hold an earlier report of the same command (its report.html
// carries that command's generator tag) and nothing but the files such a report
// writes; that earlier report is then replaced. Anything else is refused.

import Foundation
import VisionPlot

struct ReportFolder {
    let url: URL
    let generator: String
    /// Whether a file name is one this kind of report writes.
    let isReportFile: (String) -> Bool

    /// Checks the folder (creating it when absent) and removes an earlier report's files.
    func prepare() throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw EvalError(message: "\(url.path): --report needs a folder; this is a file") }
            let names = try fm.contentsOfDirectory(atPath: url.path).sorted()
            guard !names.isEmpty else { return }
            let foreign = names.filter { !isReportFile($0) }
            let page = url.appendingPathComponent("report.html")
            let ours = (try? String(contentsOf: page, encoding: .utf8))?
                .contains("<meta name=\"generator\" content=\"\(HTML.escape(generator))\">") ?? false
            guard foreign.isEmpty && ours else {
                let shown = foreign.isEmpty ? names : foreign
                let listed = shown.prefix(3).joined(separator: ", ") + (shown.count > 3 ? ", ..." : "")
                throw EvalError(message: "\(url.path): holds files this report did not write (\(listed)); "
                                + "give a new or empty folder")
            }
            for name in names { try fm.removeItem(at: url.appendingPathComponent(name)) }
        } else {
            do {
                try fm.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw EvalError(message: "\(url.path): cannot create the report folder (\(error.localizedDescription))")
            }
        }
    }

    func write(_ data: Data, to name: String) throws {
        let file = url.appendingPathComponent(name)
        do {
            try data.write(to: file, options: .atomic)
        } catch {
            throw EvalError(message: "\(file.path): cannot write (\(error.localizedDescription))")
        }
    }
}
