// SplitMix64 (Steele, Lea, Flood 2014): the project's one small seeded generator.
// Its whole state is one UInt64, so a training run can save and resume the exact
// stream, and tests get the same data on every machine.

public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable, Codable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 { SplitMix64.advance(&state) }

    /// One step on a bare state: state += golden gamma, then the bit mixer.
    @inlinable
    public static func advance(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
