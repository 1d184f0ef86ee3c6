// Axis scales: a data interval mapped onto a pixel interval, and the "nice" tick
// values a reader expects (steps of 1, 2 or 5 times a power of ten; powers of two
// on a log scale, where anchor sizes 16...1024 sit).

import Foundation

public struct AxisScale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case linear, log2 }

    public var kind: Kind
    /// The data interval shown (on a log scale both ends are > 0).
    public var lower: Double, upper: Double
    /// Pixels of `lower` and `upper` (for a y axis `from` is the bottom).
    public var from: Double, to: Double

    public init(kind: Kind = .linear, lower: Double, upper: Double, from: Double, to: Double) {
        self.kind = kind
        self.lower = lower
        self.upper = upper
        self.from = from
        self.to = to
    }

    /// The pixel of `value` (values outside the interval map outside the pixels).
    public func pixel(_ value: Double) -> Double {
        let t: Double
        switch kind {
        case .linear: t = upper == lower ? 0.5 : (value - lower) / (upper - lower)
        case .log2:
            let v = Foundation.log2(max(value, .leastNormalMagnitude))
            let lo = Foundation.log2(lower), hi = Foundation.log2(upper)
            t = hi == lo ? 0.5 : (v - lo) / (hi - lo)
        }
        return from + t * (to - from)
    }

    /// The tick values inside the interval.
    public var ticks: [Double] {
        switch kind {
        case .linear: return AxisTicks.linear(lower, upper).filter { $0 >= lower - 1e-9 * abs(upper - lower) && $0 <= upper + 1e-9 * abs(upper - lower) }
        case .log2: return AxisTicks.powersOfTwo(lower, upper)
        }
    }
}

public enum AxisTicks {
    /// The tick step for about `count` intervals over [lower, upper]: 1, 2 or 5 x 10^k.
    public static func step(_ lower: Double, _ upper: Double, count: Int = 5) -> Double {
        let span = upper - lower
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(count, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        // Rounded to the nearest of 1, 2, 5, 10 on a log scale (d3's rule), so the count stays near `count`.
        let nice: Double = fraction >= 50.0.squareRoot() ? 10 : fraction >= 10.0.squareRoot() ? 5 : fraction >= 2.0.squareRoot() ? 2 : 1
        return nice * magnitude
    }

    /// [lower, upper] widened outwards to whole tick steps (so the frame starts and
    /// ends on a tick); an empty interval is widened around its value.
    public static func niceInterval(_ lower: Double, _ upper: Double, count: Int = 5) -> (lower: Double, upper: Double) {
        var (lo, hi) = (lower, upper)
        if !(lo.isFinite && hi.isFinite) { return (0, 1) }
        if hi < lo { swap(&lo, &hi) }
        if hi == lo { let pad = lo == 0 ? 1 : abs(lo) * 0.1; lo -= pad; hi += pad }
        let s = step(lo, hi, count: count)
        return (floor(lo / s + 1e-9) * s, ceil(hi / s - 1e-9) * s)
    }

    /// Multiples of the step from the first at or above `lower` to `upper`.
    public static func linear(_ lower: Double, _ upper: Double, count: Int = 5) -> [Double] {
        let s = step(lower, upper, count: count)
        guard upper > lower else { return [lower] }
        var out: [Double] = []
        var i = ceil(lower / s - 1e-9)
        while i * s <= upper + s * 1e-9 {
            let v = i * s
            out.append(abs(v) < s * 1e-9 ? 0 : v)
            i += 1
        }
        return out
    }

    /// Powers of two in [lower, upper].
    public static func powersOfTwo(_ lower: Double, _ upper: Double) -> [Double] {
        guard lower > 0, upper >= lower else { return [] }
        var out: [Double] = []
        var e = ceil(log2(lower) - 1e-9)
        while pow(2, e) <= upper * (1 + 1e-9) { out.append(pow(2, e)); e += 1 }
        return out
    }

    /// A tick label with as many decimals as the step needs ("0.25", "1000", "1.5e-05").
    public static func label(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 || magnitude < 1e-4 { return String(format: "%.2g", value) }
        let decimals = step >= 1 || step <= 0 ? 0 : min(6, Int(ceil(-log10(step) - 1e-9)))
        let text = String(format: "%.\(decimals)f", value)
        return text
    }
}
