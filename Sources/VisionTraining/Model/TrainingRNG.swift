// A small seeded random generator whose whole state is one UInt64, so a training
// run can save it in its checkpoint and resume the exact same stream.
// VisionCore's SplitMix64 step on a state saved as one UInt64.

import Foundation
import VisionCore

public struct TrainingRNG: PermutationSource, Sendable, Equatable, Codable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one (seed, stream, index) triple: independent streams for data
    /// order (per epoch) and augmentation / sampling (per step), so resuming at any
    /// step needs no replay of earlier draws.
    public init(seed: UInt64, stream: UInt64, index: UInt64) {
        var mixer = TrainingRNG(seed: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        for _ in 0..<2 { _ = mixer.next() }
        state = mixer.next() ^ (index &* 0x9E37_79B9_7F4A_7C15)
        _ = next()
    }

    public mutating func next() -> UInt64 { SplitMix64.advance(&state) }

    /// Uniform in [0, 1) with 24 random bits (exactly representable as Float).
    public mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Standard normal by Box-Muller (one value per call; the pair's second is dropped).
    public mutating func normal() -> Float {
        let u1 = Double((next() >> 11) + 1) / Double(1 << 53)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// Fisher-Yates shuffle of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            p.swapAt(i, Int(next() % UInt64(i + 1)))
        }
        return p
    }
}
