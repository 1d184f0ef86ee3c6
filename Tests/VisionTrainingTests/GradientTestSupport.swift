// Helpers for gradient tests: deterministic random data, central finite differences
// and max-difference assertions that print what they found.

import Foundation
import VisionCore
import XCTest

/// VisionCore's SplitMix64 with float helpers, so every run sees the same data.
struct TestRandom {
    var generator: SplitMix64
    init(_ seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(Double(next() >> 11) / Double(1 << 53))
    }

    mutating func array(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
        (0..<n).map { _ in uniform(lo, hi) }
    }
}

/// Central differences of `loss` w.r.t. every element of `values`, with step h:
/// (L(v + h) - L(v - h)) / 2h. `loss` reads the current values.
func finiteDifferences(_ values: inout [Float], step h: Float, loss: ([Float]) -> Double) -> [Double] {
    var out = [Double](repeating: 0, count: values.count)
    for i in values.indices {
        let saved = values[i]
        values[i] = saved + h
        let plus = loss(values)
        values[i] = saved - h
        let minus = loss(values)
        values[i] = saved
        // The actual step in Float32 may differ from h; divide by what was applied.
        let applied = Double(saved + h) - Double(saved - h)
        out[i] = (plus - minus) / applied
    }
    return out
}

/// sum(values * weights) in Double: the scalar objective the gradient tests differentiate.
func weightedSum(_ values: UnsafePointer<Float>, _ weights: [Float]) -> Double {
    var s = 0.0
    for i in weights.indices { s += Double(values[i]) * Double(weights[i]) }
    return s
}

/// Asserts max |a - b| <= tolerance * max(1, max |b|), printing the numbers.
func assertClose(_ a: [Float], _ b: [Double], tolerance: Double, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): sizes differ", file: file, line: line)
    var maxDiff = 0.0, scale = 1.0
    for (x, y) in zip(a, b) {
        maxDiff = max(maxDiff, abs(Double(x) - y))
        scale = max(scale, abs(y))
    }
    print("\(what): max |diff| = \(maxDiff) (scale \(scale), tolerance \(tolerance * scale))")
    XCTAssertLessThanOrEqual(maxDiff, tolerance * scale, what, file: file, line: line)
}

func assertClose(_ a: [Float], _ b: [Float], tolerance: Double, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    assertClose(a, b.map(Double.init), tolerance: tolerance, what, file: file, line: line)
}

/// Relative comparison for scalars: |a - b| <= tolerance * max(|b|, tiny).
func assertRelative(_ a: Float, _ b: Float, tolerance: Double, _ what: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    let diff = abs(Double(a) - Double(b))
    let rel = diff / max(abs(Double(b)), 1e-12)
    print("\(what): \(a) vs \(b), relative diff \(rel)")
    XCTAssertLessThanOrEqual(rel, tolerance, what, file: file, line: line)
}

/// Element-wise relative comparison against the largest reference magnitude:
/// max |a - b| <= tolerance * max |b|.
func assertRelative(_ a: [Float], _ b: [Float], tolerance: Double, _ what: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): sizes differ", file: file, line: line)
    var maxDiff = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        maxDiff = max(maxDiff, abs(Double(x) - Double(y)))
        scale = max(scale, abs(Double(y)))
    }
    print("\(what): max |diff| = \(maxDiff), max |reference| = \(scale)")
    XCTAssertLessThanOrEqual(maxDiff, tolerance * max(scale, 1e-12), what, file: file, line: line)
}
