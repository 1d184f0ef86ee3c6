// Locates the committed checkpoint fixtures and the values they must decode to.

import Foundation
import VisionCheckpoint
import XCTest

enum CheckpointFixtures {
    /// Tests/Fixtures/checkpoints, found by walking up from this file to the repo root.
    static let directory: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            let candidate = url.appendingPathComponent("Tests/Fixtures/checkpoints")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            url = url.deletingLastPathComponent()
        }
        fatalError("Tests/Fixtures/checkpoints not found above \(#filePath)")
    }()

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// An input Tests/Fuzz found, kept in Tests/Fixtures/fuzz as a regression case.
    static func fuzzInput(_ name: String) -> URL {
        directory.deletingLastPathComponent().appendingPathComponent("fuzz").appendingPathComponent(name)
    }

    /// A legacy-format prefix (magic, protocol 1001, empty sys_info) followed by `pickle`.
    static func legacyFile(_ pickle: [UInt8]) -> [UInt8] {
        let magic: [UInt8] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]
        let version: [UInt8] = [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]
        let sysInfo: [UInt8] = [0x80, 0x02, 0x7d, 0x2e]
        return magic + version + sysInfo + pickle
    }

    struct ExpectedTensor {
        let shape: [Int]
        let dtype: String
        let values: [Float]
    }

    struct Expected {
        let keys: [String]
        let moduleVersions: [String: Int]
        let safetensorsMetadata: [String: String]
        let tensors: [String: ExpectedTensor]
    }

    static let expected: Expected = {
        let data = try! Data(contentsOf: url("expected.json"))
        let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        var tensors: [String: ExpectedTensor] = [:]
        for (key, value) in json["tensors"] as! [String: Any] {
            let fields = value as! [String: Any]
            tensors[key] = ExpectedTensor(
                shape: (fields["shape"] as! [NSNumber]).map(\.intValue),
                dtype: fields["dtype"] as! String,
                values: (fields["values"] as! [NSNumber]).map { Float($0.doubleValue) })
        }
        return Expected(
            keys: json["keys"] as! [String],
            moduleVersions: (json["module_versions"] as! [String: NSNumber]).mapValues(\.intValue),
            safetensorsMetadata: json["safetensors_metadata"] as! [String: String],
            tensors: tensors)
    }()

    /// A fresh path in a per-process temporary directory.
    static func temporaryURL(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vision-checkpoint-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }

    /// The error message `body` throws, or a test failure when it does not throw.
    static func errorMessage(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            try body()
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            return String(describing: error)
        }
    }
}

/// Time and peak resident memory of a block. The kernel's peak (VmHWM) is reset
/// first through /proc/self/clear_refs, so the growth is this block's alone.
enum PeakMemory {
    static func measure(_ body: () -> Void) -> (milliseconds: Double, peakGrowthKiB: Int) {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let before = statusKiB("VmRSS")
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        return (milliseconds, max(0, statusKiB("VmHWM") - before))
    }

    /// A "Name:   N kB" line of /proc/self/status.
    private static func statusKiB(_ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
