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
