// Loader for Tests/Fixtures/training/ (generate_training.py; the step fixtures, StepFixture.swift):
// training.f32 (all float arrays, raw little-endian Float32) and index.json
// ({"arrays": {name: {offset, shape}}, "ints": {name: [Int]}, "params": {...}}).

import Foundation
import XCTest

struct TrainingFixtures {
    let floats: [Float]
    let arrays: [String: (offset: Int, shape: [Int])]
    let ints: [String: [Int]]
    let params: [String: Any]

    static func load() throws -> TrainingFixtures { try load(data: "training.f32", index: "index.json") }

    /// Tests/Fixtures/training/<data> and <index>, in that layout.
    static func load(data: String, index: String) throws -> TrainingFixtures {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { throw TrainingFixtureError("Package.swift not found above \(#filePath)") }
            dir = parent
        }
        let folder = dir.appendingPathComponent("Tests/Fixtures/training")
        let blob = try Data(contentsOf: folder.appendingPathComponent(data))
        let floats = blob.withUnsafeBytes { raw in
            (0..<(blob.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(index)))
        guard let root = json as? [String: Any], let arrays = root["arrays"] as? [String: [String: Any]],
              let ints = root["ints"] as? [String: [Int]], let params = root["params"] as? [String: Any]
        else { throw TrainingFixtureError("training/\(index): unexpected layout") }
        var table: [String: (Int, [Int])] = [:]
        for (name, entry) in arrays {
            guard let offset = entry["offset"] as? Int, let shape = entry["shape"] as? [Int]
            else { throw TrainingFixtureError("training/\(index): bad entry \(name)") }
            table[name] = (offset, shape)
        }
        return TrainingFixtures(floats: floats, arrays: table, ints: ints, params: params)
    }

    func array(_ name: String) throws -> [Float] {
        guard let entry = arrays[name] else { throw TrainingFixtureError("training fixture has no array '\(name)'") }
        let n = entry.shape.reduce(1, *)
        return Array(floats[entry.offset..<(entry.offset + n)])
    }

    func shape(_ name: String) throws -> [Int] {
        guard let entry = arrays[name] else { throw TrainingFixtureError("training fixture has no array '\(name)'") }
        return entry.shape
    }

    func integers(_ name: String) throws -> [Int] {
        guard let v = ints[name] else { throw TrainingFixtureError("training fixture has no int list '\(name)'") }
        return v
    }

    func param(_ section: String, _ key: String) throws -> Int {
        guard let s = params[section] as? [String: Any], let v = s[key] as? Int
        else { throw TrainingFixtureError("training fixture has no int param \(section).\(key)") }
        return v
    }
}

struct TrainingFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
