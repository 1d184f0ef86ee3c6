// Every example a user can copy runs as written: the `vision` command lines of
// README.md's shell blocks and the "Examples:" of every --help text, run in
// order by /bin/sh against the shipped model and the sample data.
//
// The only differences from a user's shell, each to keep the run hermetic:
// - the working directory is a scratch folder laid out like the repository
//   (Samples/ linked, Models/ copied so an example may write into it, ../shared
//   linked when the shared datasets exist);
// - published models are served by a loopback server (the reduced-width fixture
//   checkpoint stands in for fasterrcnn_mobilenet_v3_large_320_fpn's weights);
// - HOME is a scratch folder, and "/tmp/" in a command is that scratch folder's tmp/;
// - `vision train` lines run as written and are stopped with SIGINT after their
//   first step (the trainer saves and exits 130): they prove the command starts
//   and trains, not that 20 epochs finish inside a test.

import Foundation
import VisionCheckpoint
import VisionDetection
import XCTest

final class DocumentedExamplesTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = try CLI.temporaryDirectory("examples")
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// Shell blocks of README.md: each logical line (continuations joined) that runs `vision`.
    static func readmeExamples() throws -> [String] {
        let text = try String(contentsOf: CLI.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var examples: [String] = []
        var inShell = false
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if raw.hasPrefix("```") {
                inShell = !inShell && raw.trimmingCharacters(in: .whitespaces) == "```sh"
                pending = ""
                continue
            }
            guard inShell else { continue }
            let line = pending + raw.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\\") { pending = String(line.dropLast()) + " "; continue }
            pending = ""
            if let example = visionCommand(in: line) { examples.append(example) }
        }
        return examples
    }

    /// The part of a shell line from its first `vision` invocation on (the README's
    /// first command installs packages and builds before it); nil when it runs none.
    static func visionCommand(in line: String) -> String? {
        guard !line.hasPrefix("#") else { return nil }
        let pattern = try! NSRegularExpression(pattern: #"(^|&& |; |do )((\.build/release/)?vision )"#)
        guard let match = pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) else { return nil }
        if line.hasPrefix("for ") { return line }  // a loop around vision runs whole
        let start = Range(match.range(at: 2), in: line)!.lowerBound
        return String(line[start...])
    }

    /// The "Examples:" lines of `vision --help` and of every subcommand's help. Each
    /// line must also appear unbroken in the help of an 80-column terminal, so it can be
    /// copied from there.
    func helpExamples(environment: [String: String]) throws -> [String] {
        let commands = [[], ["predict"], ["train"], ["eval"], ["dataset"], ["dataset", "inspect"],
                        ["checkpoint"], ["checkpoint", "list"], ["checkpoint", "info"], ["checkpoint", "convert"],
                        ["checkpoint", "download"]]
        var examples: [String] = []
        var wide = environment, narrow = environment
        wide["COLUMNS"] = "1000"
        narrow["COLUMNS"] = "80"
        for command in commands {
            let name = "vision \(command.joined(separator: " ")) --help"
            let help = try CLI.run(command + ["--help"], environment: wide, scratch: scratch)
            XCTAssertEqual(help.status, 0, "\(name): \(help.stderr)")
            let narrowLines = Set(try CLI.run(command + ["--help"], environment: narrow, scratch: scratch).stdout
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
            var inExamples = false
            var pending = ""
            for raw in help.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line == "Examples:" { inExamples = true; continue }
                guard inExamples else { continue }
                if line.isEmpty || !raw.hasPrefix(" ") { inExamples = false; pending = ""; continue }
                XCTAssertTrue(narrowLines.contains(line), "\(name): the example line '\(line)' is wrapped at 80 columns")
                let joined = pending + line
                if joined.hasSuffix("\\") { pending = String(joined.dropLast()) + " "; continue }
                pending = ""
                if let example = Self.visionCommand(in: joined) { examples.append(example) }
            }
        }
        return examples
    }

    func testEveryDocumentedExampleRuns() throws {
        let fm = FileManager.default
        let work = scratch.appendingPathComponent("work")
        let home = scratch.appendingPathComponent("home")
        let tmp = scratch.appendingPathComponent("tmp")
        for dir in [work, home, tmp] { try fm.createDirectory(at: dir, withIntermediateDirectories: true) }
        try fm.createSymbolicLink(at: work.appendingPathComponent("Samples"), withDestinationURL: CLI.repoRoot.appendingPathComponent("Samples"))
        let sharedDatasets = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
        let haveShared = fm.fileExists(atPath: sharedDatasets.appendingPathComponent("datasets/bccd").path)
        if haveShared { try fm.createSymbolicLink(at: scratch.appendingPathComponent("shared"), withDestinationURL: sharedDatasets) }
        let executable = try XCTUnwrap(CLI.executable, "vision executable not built")
        let buildRelease = work.appendingPathComponent(".build/release")
        try fm.createDirectory(at: buildRelease, withIntermediateDirectories: true)
        try fm.createSymbolicLink(at: buildRelease.appendingPathComponent("vision"), withDestinationURL: executable)

        // Models/: the repository's definitions and shipped model, the 320 definition
        // pointing at the loopback server with the fixture checkpoint.
        let models = work.appendingPathComponent("Models")
        try fm.createDirectory(at: models, withIntermediateDirectories: true)
        let repoModels = CLI.repoRoot.appendingPathComponent("Models")
        for name in try fm.contentsOfDirectory(atPath: repoModels.path) {
            try fm.copyItem(at: repoModels.appendingPathComponent(name), to: models.appendingPathComponent(name))
        }
        let body = try Data(contentsOf: CLI.fixtureCheckpoint)
        let prefix = String(CLI.sha256Hex(body).prefix(8))
        let fileName = "/\(CLI.fixtureModelName)-\(prefix).pth"
        let server = try LocalHTTPServer(files: [fileName: body])
        defer { server.stop() }
        let definition = CLI.fixtureModels.appendingPathComponent("\(CLI.fixtureModelName).json")
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: definition)) as? [String: Any])
        json["url"] = server.url(fileName).absoluteString
        json["sha256Prefix"] = prefix
        try JSONSerialization.data(withJSONObject: json).write(to: models.appendingPathComponent("\(CLI.fixtureModelName).json"))

        // The README's recipe converts the ImageNet MobileNetV2 into ~/.cache/vision itself.
        let cache = home.appendingPathComponent(".cache/vision")
        try fm.createDirectory(at: cache, withIntermediateDirectories: true)

        var env = CLI.environment(models: models, home: cache)
        env["HOME"] = home.path
        env["PATH"] = executable.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["SLURM_ARRAY_TASK_ID"] = "1"

        let examples = try Self.readmeExamples() + helpExamples(environment: env)
        XCTAssertGreaterThanOrEqual(examples.count, 10, "examples found: \(examples)")
        var ran = 0
        var skippedOutputs: [String] = []
        for example in examples {
            // Without the shared datasets (a clone with no ../shared), an example on them is
            // skipped, and so is every later one that reads what it would have written (-o DIR).
            if !haveShared && (example.contains("../shared/") || skippedOutputs.contains { example.contains($0 + "/") }) {
                if let range = example.range(of: #"-o (\S+)"#, options: .regularExpression) {
                    skippedOutputs.append(String(example[range].dropFirst(3)))
                }
                continue
            }
            let command = example.replacingOccurrences(of: "/tmp/", with: tmp.path + "/")
            let isTraining = command.range(of: #"vision train( |$)"#, options: .regularExpression) != nil
            let (process, out, err) = try CLI.start(["-c", "exec 2>&1; " + (isTraining ? "exec " : "") + command],
                                                   environment: env, scratch: scratch, directory: work, shell: true)
            let deadline = Date().addingTimeInterval(isTraining ? 180 : 120)
            var interrupted = false
            while process.isRunning && Date() < deadline {
                if isTraining && !interrupted,
                   let text = try? String(contentsOf: out, encoding: .utf8),
                   text.range(of: #"epoch \d+/\d+ step \d+/\d+ "#, options: .regularExpression) != nil {
                    process.interrupt()
                    interrupted = true
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            if process.isRunning { process.terminate(); process.waitUntilExit() }
            process.waitUntilExit()
            let output = ((try? String(contentsOf: out, encoding: .utf8)) ?? "") + ((try? String(contentsOf: err, encoding: .utf8)) ?? "")
            if isTraining {
                XCTAssertTrue(interrupted, "`\(example)` never reached its first step:\n\(output.suffix(2000))")
                XCTAssertTrue([0, 130].contains(process.terminationStatus), "`\(example)` exited \(process.terminationStatus):\n\(output.suffix(2000))")
            } else {
                XCTAssertEqual(process.terminationStatus, 0, "`\(example)` failed:\n\(output.suffix(2000))")
            }
            ran += 1
            print("documented example \(ran): \(example) -> exit \(process.terminationStatus)")
        }
        XCTAssertGreaterThanOrEqual(ran, haveShared ? examples.count : 8)
    }
}
