// Loader for the detection-ops fixtures written by Tests/Fixtures/generate_detops.py:
// Tests/Fixtures/detops/detops.f32 (all float arrays, raw little-endian Float32) and
// index.json ({"arrays": {name: {offset, shape}}, "ints": {name: [Int]}, "params": {...}}).

import Foundation
import XCTest

struct DetOpsFixtures {
    let floats: [Float]
    let arrays: [String: (offset: Int, shape: [Int])]
    let ints: [String: [Int]]
    let params: [String: Any]

    static func load() throws -> DetOpsFixtures {
        // Walk up from this file to the directory holding Package.swift.
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { throw FixtureError("Package.swift not found above \(#filePath)") }
            dir = parent
        }
        let folder = dir.appendingPathComponent("Tests/Fixtures/detops")
        let blob = try Data(contentsOf: folder.appendingPathComponent("detops.f32"))
        let floats = blob.withUnsafeBytes { raw in
            (0..<(blob.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("index.json")))
        guard let root = json as? [String: Any], let arrays = root["arrays"] as? [String: [String: Any]],
              let ints = root["ints"] as? [String: [Int]], let params = root["params"] as? [String: Any]
        else { throw FixtureError("detops/index.json: unexpected layout") }
        var table: [String: (Int, [Int])] = [:]
        for (name, entry) in arrays {
            guard let offset = entry["offset"] as? Int, let shape = entry["shape"] as? [Int]
            else { throw FixtureError("detops/index.json: bad entry \(name)") }
            table[name] = (offset, shape)
        }
        return DetOpsFixtures(floats: floats, arrays: table, ints: ints, params: params)
    }

    func array(_ name: String) throws -> (values: [Float], shape: [Int]) {
        guard let entry = arrays[name] else { throw FixtureError("detops fixture has no array '\(name)'") }
        let n = entry.shape.reduce(1, *)
        return (Array(floats[entry.offset..<(entry.offset + n)]), entry.shape)
    }

    func integers(_ name: String) throws -> [Int] {
        guard let v = ints[name] else { throw FixtureError("detops fixture has no int list '\(name)'") }
        return v
    }

    func param(_ name: String) throws -> [String: Any] {
        guard let v = params[name] as? [String: Any] else { throw FixtureError("detops fixture has no params '\(name)'") }
        return v
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Largest |a - b| and largest |a - b| / max(|b|, 1e-30) over equal-length arrays; NaN counts as infinite.
func maxDifferences(_ a: [Float], _ b: [Float]) -> (absolute: Float, relative: Float) {
    precondition(a.count == b.count)
    var absolute: Float = 0, relative: Float = 0
    for (x, y) in zip(a, b) {
        if x.isNaN != y.isNaN { return (.infinity, .infinity) }
        if x.isNaN || x == y { continue }
        let d = abs(x - y)
        absolute = max(absolute, d)
        relative = max(relative, d / max(abs(y), 1e-30))
    }
    return (absolute, relative)
}
