// Swift-written .safetensors and .pth files read back identically.

import Foundation
import VisionCheckpoint
import VisionCore
import XCTest

final class CheckpointRoundTripTests: XCTestCase {
    private func sample() -> StateDict {
        var rng = SplitMix64(seed: 7)
        func random(_ shape: [Int]) -> Tensor {
            let n = shape.reduce(1, *)
            return Tensor(shape: shape, values: (0 ..< n).map { _ in Float(Int64(bitPattern: rng.next()) % 1_000_000) / 1000 })
        }
        var sd = StateDict([
            ("backbone.body.conv1.weight", random([4, 3, 3, 3])),
            ("backbone.body.bn1.running_var", random([4])),
            ("a \"quoted\"\\key\tüñí", random([2, 2])),
            ("big", random([70_000])),  // needs BININT for its element count
            ("scalar", Tensor(shape: [], values: [3.5])),
            ("empty", Tensor(shape: [0, 5], values: [])),
        ])
        sd.moduleVersions = ["": 1, "backbone.fpn": 2]
        return sd
    }

    private func assertIdentical(_ a: StateDict, _ b: StateDict, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(a.keys), Set(b.keys), file: file, line: line)
        var worst: Float = 0
        for key in a.keys {
            guard let x = a[key], let y = b[key] else { continue }
            XCTAssertEqual(x.shape, y.shape, key, file: file, line: line)
            XCTAssertEqual(x.values.map(\.bitPattern), y.values.map(\.bitPattern), key, file: file, line: line)
            for (p, q) in zip(x.values, y.values) { worst = max(worst, abs(p - q)) }
        }
        print("round trip max abs difference: \(worst)")
    }

    func testSafetensorsRoundTrip() throws {
        let url = CheckpointFixtures.temporaryURL("roundtrip.safetensors")
        let original = sample()
        try saveSafetensors(original, to: url, metadata: ["format": "pt", "producer": "vision"])
        let (loaded, format) = try loadStateDict(from: url)
        XCTAssertEqual(format, .safetensors)
        assertIdentical(original, loaded)
        XCTAssertEqual(loaded.metadata, ["format": "pt", "producer": "vision"])
        XCTAssertEqual(loaded.keys, original.keys.sorted(), "data is written in sorted key order")
        // Header length is a multiple of 8 (space padded), like the reference writer.
        let bytes = try [UInt8](Data(contentsOf: url))
        let headerLength = bytes[0 ..< 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0)
    }

    func testSafetensorsFloat16StorageRoundsToNearestAndRefusesOverflow() throws {
        let url = CheckpointFixtures.temporaryURL("half.safetensors")
        let original = sample()
        try saveSafetensors(original, to: url, metadata: ["producer": "vision"], storage: .float16)
        let (loaded, _) = try loadStateDict(from: url)
        XCTAssertEqual(Set(loaded.keys), Set(original.keys))
        var worstRelative: Float = 0
        for key in original.keys {
            let x = original[key]!, y = loaded[key]!
            XCTAssertEqual(x.shape, y.shape, key)
            for (p, q) in zip(x.values, y.values) {
                // Each value is the nearest half: within half an ulp of Float16 (2^-11 relative).
                XCTAssertEqual(q, Float(Float16(p)), key)
                if p != 0 { worstRelative = max(worstRelative, abs(p - q) / abs(p)) }
            }
        }
        print("float16 storage: worst relative rounding \(worstRelative)")
        XCTAssertLessThanOrEqual(worstRelative, 1.0 / 2048)
        let f32 = CheckpointFixtures.temporaryURL("full.safetensors")
        try saveSafetensors(original, to: f32, metadata: ["producer": "vision"])
        let halfSize = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        let fullSize = try FileManager.default.attributesOfItem(atPath: f32.path)[.size] as! Int
        XCTAssertLessThan(Double(halfSize), 0.55 * Double(fullSize), "F16 storage is about half the size")

        let tooBig = StateDict([("layer.weight", Tensor(shape: [2], values: [1, 70_000]))])
        XCTAssertThrowsError(try saveSafetensors(tooBig, to: CheckpointFixtures.temporaryURL("overflow.safetensors"), storage: .float16)) {
            XCTAssertTrue("\($0)".contains("layer.weight"), "the error names the key: \($0)")
        }
    }

    func testPthRoundTripKeepsOrderAndVersions() throws {
        let url = CheckpointFixtures.temporaryURL("roundtrip.pth")
        let original = sample()
        try savePth(original, to: url)
        let (loaded, format) = try loadStateDict(from: url)
        XCTAssertEqual(format, .pthZip)
        assertIdentical(original, loaded)
        XCTAssertEqual(loaded.keys, original.keys)
        XCTAssertEqual(loaded.moduleVersions, ["": 1, "backbone.fpn": 2])
    }

    func testPthStorageRecordsAre64ByteAligned() throws {
        let url = CheckpointFixtures.temporaryURL("aligned.pth")
        try savePth(sample(), to: url)
        let bytes = try [UInt8](Data(contentsOf: url))
        // Walk the local headers: each data/<n> record must start on a 64-byte boundary.
        var offset = 0
        var checked = 0
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        while offset + 30 <= bytes.count, u32(offset) == 0x0403_4b50 {
            let nameLength = u16(offset + 26), extraLength = u16(offset + 28)
            let name = String(decoding: bytes[(offset + 30) ..< (offset + 30 + nameLength)], as: UTF8.self)
            let dataStart = offset + 30 + nameLength + extraLength
            if name.contains("/data/") {
                XCTAssertEqual(dataStart % 64, 0, name)
                checked += 1
            }
            offset = dataStart + u32(offset + 22)
        }
        XCTAssertEqual(checked, 6)
    }

    func testResavingTheTorchFixtureKeepsItsValues() throws {
        let (torchWritten, _) = try loadStateDict(from: CheckpointFixtures.url("tiny.pth"))
        let url = CheckpointFixtures.temporaryURL("resaved.pth")
        try savePth(torchWritten, to: url)
        let (again, _) = try loadStateDict(from: url)
        assertIdentical(torchWritten, again)
        XCTAssertEqual(again.moduleVersions, CheckpointFixtures.expected.moduleVersions)
    }
}
