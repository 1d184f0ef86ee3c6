// Helpers shared by the VisionCore tests: deterministic random tensors and
// max-difference reports.

import Foundation
import VisionCore
import XCTest

/// Deterministic uniform values in [-scale, scale) (LCG; no global RNG state).
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    let n = Tensor.elementCount(shape)
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        values[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    return Tensor(shape: shape, values: values)
}

struct Difference {
    var maxAbs: Float
    /// maxAbs relative to the largest |reference| value.
    var maxRelative: Float
}

func difference(_ actual: [Float], _ expected: [Float]) -> Difference {
    precondition(actual.count == expected.count, "compared arrays differ in length")
    var maxAbs: Float = 0, maxRef: Float = 0
    for i in 0..<actual.count {
        let d = abs(actual[i] - expected[i])
        maxAbs = d.isNaN ? .infinity : max(maxAbs, d)
        maxRef = max(maxRef, abs(expected[i]))
    }
    return Difference(maxAbs: maxAbs, maxRelative: maxRef == 0 ? maxAbs : maxAbs / maxRef)
}

/// Asserts equal shapes and relative error <= tolerance; prints the differences.
@discardableResult
func assertClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-4, _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) -> Difference {
    XCTAssertEqual(actual.shape, expected.shape, "\(label): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return Difference(maxAbs: .infinity, maxRelative: .infinity) }
    let d = difference(actual.values, expected.values)
    print("\(label): max abs diff \(d.maxAbs), max rel diff \(d.maxRelative)")
    XCTAssertLessThanOrEqual(d.maxRelative, tolerance, "\(label): relative error", file: file, line: line)
    return d
}

let allActivations: [Activation] = [.identity, .relu, .relu6, .hardswish, .hardsigmoid, .sigmoid]
