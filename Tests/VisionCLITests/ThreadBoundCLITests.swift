import Foundation
import XCTest

/// `vision predict --threads N` keeps its work on N threads: CPU time / wall time of
/// the child (getrusage of reaped children) and the threads alive in /proc/<pid>/task,
/// sampled every millisecond. Threads besides the main one: the decode producer
/// (waiting while the model runs when N = 1) and, for N > 1, libdispatch's workers.
/// OpenBLAS's pthread build starts (cores - 1) workers when it is loaded; `vision`
/// joins them first thing in main, so they are gone before the model is loaded.
final class ThreadBoundCLITests: XCTestCase {
    struct Measurement {
        var status: Int32
        var stdout: String
        var wall: Double
        var cpu: Double
        /// Most threads alive at once over the whole run, and once the first result line was written.
        var peakThreads: Int
        var steadyPeakThreads: Int
        var steadySamples: Int
    }

    static func childCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    func measurePredict(threads: Int, scratch: URL) throws -> Measurement {
        let env = CLI.environment(models: CLI.repoRoot.appendingPathComponent("Models"), home: scratch)
        let photos = CLI.repoRoot.appendingPathComponent("Samples/photos").path
        let cpu0 = Self.childCPUSeconds()
        let start = Date()
        let (process, out, err) = try CLI.start(["predict", "--threads", "\(threads)", photos], environment: env, scratch: scratch)
        var peak = 0, steadyPeak = 0, steadySamples = 0
        while process.isRunning {
            let alive = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/task").count) ?? 0
            peak = max(peak, alive)
            // Once a result line is out, the model is loaded and detection is under way.
            let written = (try? FileManager.default.attributesOfItem(atPath: out.path)[.size] as? Int) ?? 0
            if written > 0 && alive > 0 {
                steadyPeak = max(steadyPeak, alive)
                steadySamples += 1
            }
            usleep(1_000)
        }
        process.waitUntilExit()
        let wall = Date().timeIntervalSince(start)
        let cpu = Self.childCPUSeconds() - cpu0
        let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, "predict --threads \(threads) failed: \(stderr)")
        print("predict --threads \(threads): wall \(wall) s, cpu \(cpu) s, cpu/wall \(cpu / wall), "
              + "threads peak \(peak), after the first result \(steadyPeak) (\(steadySamples) samples)")
        return Measurement(status: process.terminationStatus, stdout: stdout, wall: wall, cpu: cpu,
                           peakThreads: peak, steadyPeakThreads: steadyPeak, steadySamples: steadySamples)
    }

    func testPredictWithOneThreadKeepsOneCoreBusy() throws {
        let scratch = try CLI.temporaryDirectory("threads")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let photos = try FileManager.default.contentsOfDirectory(atPath: CLI.repoRoot.appendingPathComponent("Samples/photos").path)
            .filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }
        XCTAssertGreaterThanOrEqual(photos.count, 5)
        let one = try measurePredict(threads: 1, scratch: scratch)
        XCTAssertEqual(one.stdout.split(separator: "\n").count, photos.count, "one line per sample photo")
        XCTAssertLessThanOrEqual(one.cpu / one.wall, 1.1, "--threads 1 keeps at most 1.1 cores busy")
        XCTAssertGreaterThan(one.steadySamples, 10, "sampled while detecting")
        // Main thread + the decode producer.
        XCTAssertLessThanOrEqual(one.steadyPeakThreads, 2, "threads alive while detecting with --threads 1")
        // Before main joins it, OpenBLAS's load-time pool (cores - 1) may be seen too.
        let openBLASPool = ProcessInfo.processInfo.activeProcessorCount - 1
        XCTAssertLessThanOrEqual(one.peakThreads, 2 + openBLASPool, "threads alive at any time with --threads 1")

        // For comparison: two compute threads (+ the decode producer, which prefetches then).
        let two = try measurePredict(threads: 2, scratch: scratch)
        XCTAssertEqual(two.stdout.split(separator: "\n").count, photos.count)
        XCTAssertLessThanOrEqual(two.cpu / two.wall, 3.1, "--threads 2: two compute threads and the decode producer")
    }
}
