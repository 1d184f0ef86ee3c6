// Each format decodes the fixture state dict to the exact values torch reports.

import Foundation
import VisionCheckpoint
import VisionCore
import XCTest

final class CheckpointFormatTests: XCTestCase {
    private func assertMatchesExpected(
        _ stateDict: StateDict, checkDTypes: Bool = true, file: StaticString = #filePath, line: UInt = #line
    ) {
        let expected = CheckpointFixtures.expected
        XCTAssertEqual(Set(stateDict.keys), Set(expected.keys), file: file, line: line)
        var worst: Float = 0
        for (key, want) in expected.tensors {
            guard let tensor = stateDict[key] else { XCTFail("missing \(key)", file: file, line: line); continue }
            XCTAssertEqual(tensor.shape, want.shape, "shape of \(key)", file: file, line: line)
            XCTAssertEqual(tensor.values.count, want.values.count, "count of \(key)", file: file, line: line)
            for (a, b) in zip(tensor.values, want.values) {
                worst = max(worst, abs(a - b))
                XCTAssertEqual(a.bitPattern, b.bitPattern, "\(key): \(a) != \(b)", file: file, line: line)
            }
            if checkDTypes {
                XCTAssertEqual(stateDict.sourceDTypes[key]?.rawValue, want.dtype, "dtype of \(key)", file: file, line: line)
            }
        }
        print("max abs difference against expected.json: \(worst)")
    }

    func testZipPthLoadsExactValuesInFileOrder() throws {
        let (stateDict, format) = try loadStateDict(from: CheckpointFixtures.url("tiny.pth"))
        XCTAssertEqual(format, .pthZip)
        assertMatchesExpected(stateDict)
        XCTAssertEqual(stateDict.keys, CheckpointFixtures.expected.keys)
        XCTAssertEqual(stateDict.moduleVersions, CheckpointFixtures.expected.moduleVersions)
    }

    func testLegacyPthLoadsExactValuesInFileOrder() throws {
        let (stateDict, format) = try loadStateDict(from: CheckpointFixtures.url("tiny_legacy.pth"))
        XCTAssertEqual(format, .pthLegacy)
        assertMatchesExpected(stateDict)
        XCTAssertEqual(stateDict.keys, CheckpointFixtures.expected.keys)
        XCTAssertEqual(stateDict.moduleVersions, CheckpointFixtures.expected.moduleVersions)
    }

    func testSafetensorsLoadsExactValuesAndMetadata() throws {
        let (stateDict, format) = try loadStateDict(from: CheckpointFixtures.url("tiny.safetensors"))
        XCTAssertEqual(format, .safetensors)
        assertMatchesExpected(stateDict)
        XCTAssertEqual(stateDict.metadata, CheckpointFixtures.expected.safetensorsMetadata)
    }

    func testNonContiguousViewsAreGathered() throws {
        let (stateDict, _) = try loadStateDict(from: CheckpointFixtures.url("tiny.pth"))
        // fc.weight_t is the transpose of a [4, 3] tensor: element (i, j) is original (j, i).
        let t = try XCTUnwrap(stateDict["fc.weight_t"])
        XCTAssertEqual(t.shape, [3, 4])
        // shared.strided = base[2:9:3] with base = arange(10) * 0.5.
        XCTAssertEqual(stateDict["shared.strided"]?.values, [1.0, 2.5, 4.0])
        XCTAssertEqual(stateDict["scalar"]?.shape, [])
        XCTAssertEqual(stateDict["scalar"]?.values, [2.75])
        XCTAssertEqual(stateDict["empty"]?.shape, [0, 3])
    }

    func testHalfBFloatDoubleAndIntegerConversions() throws {
        let (stateDict, _) = try loadStateDict(from: CheckpointFixtures.url("tiny_legacy.pth"))
        // Values chosen to be exact in their own dtype: the conversion must be exact too.
        XCTAssertEqual(stateDict["half"]?.values[0...2], [1.5, -2.25, 65504.0])
        XCTAssertEqual(stateDict.sourceDTypes["half"], .float16)
        XCTAssertEqual(stateDict["bf16"]?.values[0...1], [1.0, -3.140625])
        XCTAssertEqual(stateDict.sourceDTypes["bf16"], .bfloat16)
        XCTAssertEqual(stateDict["double"]?.values[3], 7.0)
        XCTAssertEqual(stateDict["double"]?.values[0], Float(1.0 / 3.0))
        XCTAssertEqual(stateDict["bn.num_batches_tracked"]?.values, [123])
        XCTAssertEqual(stateDict.sourceDTypes["bn.num_batches_tracked"], .int64)
        XCTAssertEqual(stateDict["int32"]?.values, [-7, 0, 100_000])
    }

    func testFormatIsSniffedFromContentNotExtension() throws {
        let copy = CheckpointFixtures.temporaryURL("really-a-legacy-pth.safetensors")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: CheckpointFixtures.url("tiny_legacy.pth"), to: copy)
        XCTAssertEqual(try checkpointFormat(of: copy), .pthLegacy)
        XCTAssertEqual(try checkpointFormat(of: CheckpointFixtures.url("tiny.pth")), .pthZip)
        XCTAssertEqual(try checkpointFormat(of: CheckpointFixtures.url("tiny.safetensors")), .safetensors)
    }
}
