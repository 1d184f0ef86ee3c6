// Fully connected backward. Layouts as in Linear.swift: input [N, in], weight [out, in],
// gradOutput [N, out] (after the activation was differentiated).
//   gradInput  [N, in]   += dY · W
//   gradWeight [out, in] += dYᵀ · X
//   gradBias   [out]     += column sums of dY
// All gradients are accumulated into (callers zero them); nil skips one.

import COpenBLAS

public func linearBackward(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
    gradBias: UnsafeMutablePointer<Float>?, batch: Int, inFeatures: Int, outFeatures: Int,
    threads: KernelThreads
) {
    if batch == 0 || outFeatures == 0 { return }
    if let gradInput, inFeatures > 0 {
        gemm(m: batch, n: inFeatures, k: outFeatures, a: gradOutput, lda: outFeatures,
             b: weight, ldb: inFeatures, beta: 1, c: gradInput, ldc: inFeatures, threads: threads)
    }
    if let gradWeight, inFeatures > 0 {
        gemm(transA: true, m: outFeatures, n: inFeatures, k: batch, a: gradOutput, lda: outFeatures,
             b: input, ldb: inFeatures, beta: 1, c: gradWeight, ldc: inFeatures, threads: threads)
    }
    if let gradBias {
        threads.parallelRanges(outFeatures, costPerItem: batch) { range in
            for o in range {
                var s: Float = 0
                for n in 0..<batch { s += gradOutput[n &* outFeatures &+ o] }
                gradBias[o] += s
            }
        }
    }
}

public func linearBackwardReference(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
    gradBias: UnsafeMutablePointer<Float>?, batch: Int, inFeatures: Int, outFeatures: Int
) {
    for n in 0..<batch {
        for o in 0..<outFeatures {
            let dy = gradOutput[n * outFeatures + o]
            gradBias?[o] += dy
            for i in 0..<inFeatures {
                gradInput?[n * inFeatures + i] += dy * weight[o * inFeatures + i]
                gradWeight?[o * inFeatures + i] += dy * input[n * inFeatures + i]
            }
        }
    }
}
