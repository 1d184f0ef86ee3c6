// Softmax over the last axis of a [rows, cols] buffer, numerically stable:
// exp(x - max(row)) / sum. Rows are split across threads when large.

import Foundation

public func softmax(_ x: UnsafePointer<Float>, output out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, threads: KernelThreads) {
    if cols == 0 { return }
    threads.parallelRanges(rows, costPerItem: cols &* 8) { range in
        for r in range {
            let src = x + r &* cols, dst = out + r &* cols
            var m = -Float.infinity
            for i in 0..<cols where src[i] > m { m = src[i] }
            var sum: Float = 0
            for i in 0..<cols {
                let e = expf(src[i] - m)
                dst[i] = e
                sum += e
            }
            let inv = 1 / sum
            for i in 0..<cols { dst[i] *= inv }
        }
    }
}

/// Reference: the textbook formula, in Double.
public func softmaxReference(_ x: UnsafePointer<Float>, output out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        var m = -Double.infinity
        for i in 0..<cols { m = max(m, Double(x[r * cols + i])) }
        var sum = 0.0
        for i in 0..<cols { sum += exp(Double(x[r * cols + i]) - m) }
        for i in 0..<cols { out[r * cols + i] = Float(exp(Double(x[r * cols + i]) - m) / sum) }
    }
}
