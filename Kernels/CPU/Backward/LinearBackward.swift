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
    gradBias: UnsafeMutablePointer<Float>?, batch: Int, inFeatures: Int, outFeatures: Int
) {
    if batch == 0 || outFeatures == 0 { return }
    if let gradInput, inFeatures > 0 {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(batch), Int32(inFeatures), Int32(outFeatures),
                    1, gradOutput, Int32(outFeatures), weight, Int32(inFeatures),
                    1, gradInput, Int32(inFeatures))
    }
    if let gradWeight, inFeatures > 0 {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                    Int32(outFeatures), Int32(inFeatures), Int32(batch),
                    1, gradOutput, Int32(outFeatures), input, Int32(inFeatures),
                    1, gradWeight, Int32(inFeatures))
    }
    if let gradBias {
        parallelRanges(outFeatures, costPerItem: batch) { range in
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
