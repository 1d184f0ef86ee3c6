// Fully connected layer. Layouts: input [N, in], weight [out, in] (PyTorch's),
// bias [out], output [N, out]. output = input * weight^T + bias, then activation.

import COpenBLAS

public func linear(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int,
    activation: KernelActivation,
    threads: KernelThreads
) {
    if batch == 0 || outFeatures == 0 { return }
    if inFeatures == 0 {
        output.update(repeating: 0, count: batch &* outFeatures)
    } else {
        gemm(transB: true, m: batch, n: outFeatures, k: inFeatures, a: input, lda: inFeatures,
             b: weight, ldb: inFeatures, c: output, ldc: outFeatures, threads: threads)
    }
    // Bias runs along the columns here, so finish each row with a per-column bias.
    if activation == .identity && bias == nil { return }
    threads.parallelRanges(batch, costPerItem: outFeatures) { rows in
        for r in rows {
            let row = output + r &* outFeatures
            if let bias {
                for j in 0..<outFeatures { row[j] += bias[j] }
            }
            applyBiasActivation(row, rows: 0..<1, rowStride: 0, count: outFeatures, bias: nil, activation: activation)
        }
    }
}

public func linearReference(
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int,
    activation: KernelActivation
) {
    for n in 0..<batch {
        for o in 0..<outFeatures {
            var sum: Float = bias?[o] ?? 0
            for i in 0..<inFeatures { sum += input[n * inFeatures + i] * weight[o * inFeatures + i] }
            output[n * outFeatures + o] = activation.apply(sum)
        }
    }
}
