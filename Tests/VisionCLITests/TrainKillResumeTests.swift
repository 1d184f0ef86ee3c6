// `vision train` survives a real SIGKILL: a run killed in the middle of an epoch and
// continued with `--resume` ends with the same weights as an uninterrupted run (the
// data order and all randomness are derived from the seed and the epoch / global
// step), its checkpoint is never left half-written, and metrics.jsonl holds each
// step exactly once.
//
// Sizes: a Pascal VOC folder of 2 clean training images of 40x30 (TinyVOC; the fixture
// voc's b.jpg loses boxes to problems and is left out of training), resized to 320, the
// reduced-width MobileNetV3 320 model from scratch, batch 1, 8 epochs = 16 steps of
// ~0.1 s each. `--threads 1` on every run keeps OpenBLAS summation order identical.

import Foundation
import VisionCheckpoint
import XCTest

final class TrainKillResumeTests: XCTestCase {
    var scratch: URL!

    var dataset: URL!
    static let epochs = 8
    static let stepsPerEpoch = 2  // 2 training images, batch 1
    static var totalSteps: Int { epochs * stepsPerEpoch }
    /// The kill is sent as soon as metrics.jsonl shows this step: the first step of
    /// epoch 3, so the run is mid-epoch, past several checkpoints, with 11 steps to go
    /// (~1 s: a kill that lands after the end fails the test rather than passing it).
    static let killAfterStep = 5

    override func setUpWithError() throws {
        scratch = try CLI.temporaryDirectory("train-kill")
        dataset = try TinyVOC.make(in: scratch.appendingPathComponent("voc"), images: [.good("a"), .good("b")])
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    var env: [String: String] { CLI.environment(home: scratch.appendingPathComponent("home")) }

    func trainArguments(output: URL) -> [String] {
        ["train", "--dataset", dataset.path, "--model", CLI.fixtureModelName,
         "--epochs", String(Self.epochs), "--batch-size", "1", "--lr", "0.02", "--seed", "11",
         "--save-every", "3", "--threads", "1", "--val-split", "none", "-o", output.path]
    }

    func testSIGKILLMidEpochThenResumeMatchesUninterruptedRun() throws {
        let started = Date()
        let runA = scratch.appendingPathComponent("A"), runB = scratch.appendingPathComponent("B")

        // (a) The uninterrupted reference run.
        let a = try CLI.run(trainArguments(output: runA), environment: env, scratch: scratch)
        XCTAssertEqual(a.status, 0, "run A failed: \(a.stderr)")
        let metricsA = try Self.iterationMetrics(in: runA)
        XCTAssertEqual(metricsA.map(\.step), Array(1...Self.totalSteps), "run A's steps")

        // (b) The same run, SIGKILLed mid-epoch.
        let (process, _, stderrB) = try CLI.start(trainArguments(output: runB), environment: env, scratch: scratch)
        let deadline = Date().addingTimeInterval(60)
        var seen = 0
        while process.isRunning && Date() < deadline {
            seen = Self.lastLoggedStep(in: runB)
            if seen >= Self.killAfterStep { break }
            usleep(5_000)
        }
        guard process.isRunning else {
            process.waitUntilExit()
            let log = (try? String(contentsOf: stderrB, encoding: .utf8)) ?? ""
            XCTFail("run B ended (status \(process.terminationStatus)) before the kill at step \(Self.killAfterStep) "
                + "(last logged step \(seen)); nothing was tested. stderr:\n\(log)")
            return
        }
        if seen < Self.killAfterStep {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("run B did not reach step \(Self.killAfterStep) within 60 s (last logged step \(seen))")
            return
        }
        XCTAssertEqual(kill(process.processIdentifier, SIGKILL), 0, "kill(2) failed: \(String(cString: strerror(errno)))")
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal,
                       "run B exited normally (status \(process.terminationStatus)) instead of dying by the kill: "
                       + "it finished before the signal landed; make the run longer")
        XCTAssertEqual(process.terminationStatus, SIGKILL, "run B died by the wrong signal")
        let loggedAtKill = Self.lastLoggedStep(in: runB)

        // The checkpoint left by the kill is whole and names a step inside the run.
        let checkpointURL = runB.appendingPathComponent("checkpoint.safetensors")
        let (atKill, _) = try loadStateDict(from: checkpointURL)
        let progress = try Self.trainingProgress(atKill, file: checkpointURL)
        let stepAtKill = try XCTUnwrap(progress["globalStep"] as? Int, "no globalStep in \(progress)")
        print("SIGKILL after logged step \(loggedAtKill); checkpoint at step \(stepAtKill) "
            + "(epoch \(progress["epoch"] ?? "?"), step in epoch \(progress["stepInEpoch"] ?? "?"))")
        XCTAssertGreaterThanOrEqual(stepAtKill, Self.killAfterStep - 2, "the checkpoint is older than --save-every allows")
        XCTAssertLessThan(stepAtKill, Self.totalSteps, "the kill left nothing to resume")
        _ = try loadStateDict(from: runB.appendingPathComponent("model.safetensors"))

        // (c) Resume to the end.
        let resumed = try CLI.run(["train", "--resume", runB.path, "--threads", "1"], environment: env, scratch: scratch)
        XCTAssertEqual(resumed.status, 0, "resume failed: \(resumed.stderr)")

        // (d) Same weights, momentum and losses as the uninterrupted run.
        let modelA = try loadStateDict(from: runA.appendingPathComponent("model.safetensors")).0
        let modelB = try loadStateDict(from: runB.appendingPathComponent("model.safetensors")).0
        let modelDiff = try Self.maxAbsDifference(modelA, modelB)
        print("model.safetensors A vs killed+resumed B: \(modelA.count) tensors, max abs difference \(modelDiff)")
        XCTAssertLessThanOrEqual(modelDiff, 1e-5, "final weights differ")
        let checkpointDiff = try Self.maxAbsDifference(
            try loadStateDict(from: runA.appendingPathComponent("checkpoint.safetensors")).0,
            try loadStateDict(from: checkpointURL).0)
        print("checkpoint.safetensors (weights + momentum) A vs B: max abs difference \(checkpointDiff)")
        XCTAssertLessThanOrEqual(checkpointDiff, 1e-5, "final checkpoints (with momentum) differ")
        // The comparison has power: training moved the weights after the killed checkpoint.
        let movedSinceKill = try Self.maxAbsDifference(atKill, modelB, keys: modelB.keys)
        print("weights moved after the kill's checkpoint by up to \(movedSinceKill)")
        XCTAssertGreaterThan(movedSinceKill, 1e-6, "the resumed steps changed nothing; the comparison proves nothing")

        // metrics.jsonl of B: every step and every epoch exactly once, losses as in A.
        let metricsB = try Self.iterationMetrics(in: runB)
        XCTAssertEqual(metricsB.map(\.step), Array(1...Self.totalSteps), "run B's iteration lines (duplicates or gaps)")
        XCTAssertEqual(try Self.epochLines(in: runB), Array(0..<Self.epochs), "run B's epoch lines")
        if metricsB.count == metricsA.count {
            let lossDiff = zip(metricsA, metricsB).map { abs($0.loss - $1.loss) }.max() ?? 0
            print("per-step loss A vs B: max abs difference \(lossDiff)")
            XCTAssertLessThanOrEqual(lossDiff, 1e-5, "losses differ")
        }
        print(String(format: "kill/resume test took %.1f s", Date().timeIntervalSince(started)))
    }

    // MARK: - Reading the run folder

    /// (global_step, loss) of every iteration line, in file order.
    static func iterationMetrics(in run: URL) throws -> [(step: Int, loss: Double)] {
        try metricLines(in: run).filter { $0["kind"] as? String == "iteration" }.map {
            (try XCTUnwrap($0["global_step"] as? Int), try XCTUnwrap($0["loss"] as? Double))
        }
    }

    static func epochLines(in run: URL) throws -> [Int] {
        try metricLines(in: run).filter { $0["kind"] as? String == "epoch" }.map { try XCTUnwrap($0["epoch"] as? Int) }
    }

    static func metricLines(in run: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "bad metrics line: \($0)")
        }
    }

    /// The highest global step metrics.jsonl shows so far (0 if none); a line being
    /// written while we read is skipped.
    static func lastLoggedStep(in run: URL) -> Int {
        guard let data = try? Data(contentsOf: run.appendingPathComponent("metrics.jsonl")) else { return 0 }
        var last = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  object["kind"] as? String == "iteration", let step = object["global_step"] as? Int else { continue }
            last = max(last, step)
        }
        return last
    }

    /// The checkpoint's `vision.training` metadata (epoch, stepInEpoch, globalStep, ...).
    static func trainingProgress(_ state: StateDict, file: URL) throws -> [String: Any] {
        let json = try XCTUnwrap(state.metadata["vision.training"], "\(file.path) has no vision.training metadata")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    /// The largest |a - b| over the tensors named `keys` (default: all; both must hold the same keys and shapes).
    static func maxAbsDifference(_ a: StateDict, _ b: StateDict, keys: [String]? = nil) throws -> Float {
        if keys == nil { XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), "the two files hold different tensors") }
        var worst: Float = 0
        for key in keys ?? a.keys {
            let x = try XCTUnwrap(a[key], "\(key) missing"), y = try XCTUnwrap(b[key], "\(key) missing")
            XCTAssertEqual(x.shape, y.shape, "shape of \(key)")
            guard x.shape == y.shape else { continue }
            x.withUnsafeBufferPointer { p in
                y.withUnsafeBufferPointer { q in
                    for i in 0..<p.count {
                        let d = abs(p[i] - q[i])
                        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
                    }
                }
            }
        }
        return worst
    }
}
