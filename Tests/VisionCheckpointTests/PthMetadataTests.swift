// A .pth vision writes carries the safetensors metadata (class names, model
// config) and F16 storage, so safetensors -> .pth -> safetensors loses nothing;
// torch-written .pth files (no metadata record) read as before.

import Foundation
import VisionCheckpoint
import VisionCore
import XCTest

final class PthMetadataTests: XCTestCase {
    /// Metadata shaped like vision's own: JSON texts as values, quotes and non-ASCII included.
    let metadata = [
        "vision.classes": #"["__background__","WBC","RBC","Platelets"]"#,
        "vision.config": #"{"minSize":320,"maxSize":533,"name":"fasterrcnn_mobilenet_v2_fpn"}"#,
        "note": "tab\there, \"quoted\", üñí",
    ]

    private func sample() -> StateDict {
        var rng = SplitMix64(seed: 11)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, values: (0 ..< shape.reduce(1, *)).map { _ in Float(Int64(bitPattern: rng.next()) % 100_000) / 997 })
        }
        return StateDict([("backbone.body.0.weight", random([8, 3, 3, 3])), ("head.bias", random([5])), ("scalar", random([]))])
    }

    func testPthKeepsMetadataAndReadsItBack() throws {
        let url = CheckpointFixtures.temporaryURL("with-metadata.pth")
        let original = sample()
        try savePth(original, to: url, metadata: metadata)
        let (loaded, format) = try loadStateDict(from: url)
        XCTAssertEqual(format, .pthZip)
        XCTAssertEqual(loaded.metadata, metadata)
        XCTAssertEqual(loaded.keys, original.keys)
        for key in original.keys {
            XCTAssertEqual(loaded[key]?.values.map(\.bitPattern), original[key]!.values.map(\.bitPattern), key)
        }
        // Without metadata the archive is exactly what it was: no extra record.
        let plain = CheckpointFixtures.temporaryURL("plain.pth")
        try savePth(original, to: plain)
        XCTAssertNil(try Data(contentsOf: plain).range(of: Data("vision_metadata.json".utf8)))
        XCTAssertEqual(try loadStateDict(from: plain).0.metadata, [:])
    }

    func testHalfStoragePthRoundTripsToTheSameSafetensorsBytes() throws {
        var half = sample()
        for key in half.keys { half[key] = Tensor(shape: half[key]!.shape, values: half[key]!.values.map { Float(Float16($0)) }) }
        let first = CheckpointFixtures.temporaryURL("first.safetensors")
        try saveSafetensors(half, to: first, metadata: metadata, storage: .float16)
        let (fromSafetensors, _) = try loadStateDict(from: first)
        XCTAssertEqual(SafetensorsStorage.lossless(for: fromSafetensors), .float16)

        let pth = CheckpointFixtures.temporaryURL("half.pth")
        try savePth(fromSafetensors, to: pth, metadata: fromSafetensors.metadata, storage: .lossless(for: fromSafetensors))
        let (fromPth, _) = try loadStateDict(from: pth)
        XCTAssertEqual(fromPth.keys.map { fromPth.sourceDTypes[$0] }, fromPth.keys.map { _ in .float16 }, "HalfStorage in the .pth")
        XCTAssertEqual(SafetensorsStorage.lossless(for: fromPth), .float16)

        let back = CheckpointFixtures.temporaryURL("back.safetensors")
        try saveSafetensors(fromPth, to: back, metadata: fromPth.metadata, storage: .lossless(for: fromPth))
        XCTAssertEqual(try Data(contentsOf: back), try Data(contentsOf: first), "safetensors -> .pth -> safetensors is byte-identical")
        // savePth's default storage is still F32, whatever the source.
        let full = CheckpointFixtures.temporaryURL("full.pth")
        try savePth(fromPth, to: full)
        let (fromFull, _) = try loadStateDict(from: full)
        XCTAssertEqual(Set(fromFull.keys.map { fromFull.sourceDTypes[$0] }), [.float32])
    }

    func testLosslessStorageIsF16OnlyWhenEveryTensorWas() throws {
        // A torch-written file (F32 and int64 tensors) stays F32.
        let (torchWritten, _) = try loadStateDict(from: CheckpointFixtures.url("tiny.pth"))
        XCTAssertEqual(SafetensorsStorage.lossless(for: torchWritten), .float32)
        XCTAssertEqual(SafetensorsStorage.lossless(for: sample()), .float32)
        XCTAssertEqual(SafetensorsStorage.lossless(for: StateDict()), .float32)
    }

    func testTorchWrittenPthStillReadsWithEmptyMetadata() throws {
        let (state, format) = try loadStateDict(from: CheckpointFixtures.url("tiny.pth"))
        XCTAssertEqual(format, .pthZip)
        XCTAssertEqual(state.metadata, [:])
        XCTAssertEqual(state.keys, CheckpointFixtures.expected.keys)
    }

    func testMalformedMetadataRecordIsAOneLineErrorNamingFileAndRecord() throws {
        let url = CheckpointFixtures.temporaryURL("bad-metadata.pth")
        try savePth(sample(), to: url, metadata: ["a": "b"])
        let good = try [UInt8](Data(contentsOf: url))
        let record = Array(#"{"a":"b"}"#.utf8)
        let at = try XCTUnwrap(Data(good).range(of: Data(record))?.lowerBound)
        // Same-length replacements, so the archive stays well formed around them.
        for (replacement, expected) in [(#"{"a":123}"#, "the value for 'a' is not a string"),
                                        ("[1,2,3,4]", "not a JSON object"), (#"{"a":"b""#, "not valid JSON")] {
            var bytes = good
            let patch = Array(replacement.utf8) + [UInt8](repeating: UInt8(ascii: " "), count: record.count - replacement.utf8.count)
            bytes.replaceSubrange(at ..< at + record.count, with: patch)
            let message = CheckpointFixtures.errorMessage { _ = try loadStateDict(bytes: bytes, name: "bad-metadata.pth") }
            XCTAssertTrue(message.hasPrefix("bad-metadata.pth: "), message)
            XCTAssertTrue(message.contains("vision_metadata.json: \(expected)"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
    }

    func testF16PthRefusesValuesBeyondItsRangeAndWritesNothing() {
        let url = CheckpointFixtures.temporaryURL("overflow.pth")
        try? FileManager.default.removeItem(at: url)
        let tooBig = StateDict([("layer.weight", Tensor(shape: [2], values: [1, 70_000]))])
        let message = CheckpointFixtures.errorMessage { try savePth(tooBig, to: url, storage: .float16) }
        XCTAssertTrue(message.contains("layer.weight"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }
}
