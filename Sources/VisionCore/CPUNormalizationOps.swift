// The CPU backend's live normalisations (GradientBackend): BatchNorm2d in training mode
// and GroupNorm, forward and backward. Both normalise groups of NCHW planes and then
// apply a per-channel affine, so one walk serves both:
//   batch norm: statistic c (of C) covers the planes (n, c) for every n;
//   group norm: statistic n * G + g (of N * G) covers the planes (n, g * C/G ..< (g + 1) * C/G).
// Sums are accumulated in Double (two passes for the variance), so the statistics of a
// large map do not drift from torch's. Statistics run in parallel; each writes only its
// own planes, and per-plane partial sums are reduced per channel afterwards.

import VisionKernels

/// Which planes (of N * C, each H * W floats) each statistic normalises.
struct NormalizationGrouping {
    let batch: Int, channels: Int, planeSize: Int
    let statistics: Int
    let planesPerStatistic: Int
    /// Plane index (n * C + c) of the k-th plane of statistic s.
    let plane: @Sendable (Int, Int) -> Int

    /// Elements each statistic averages over.
    var elements: Int { planesPerStatistic * planeSize }

    static func batchNorm(_ shape: [Int]) -> NormalizationGrouping {
        let (n, c) = (shape[0], shape[1])
        return NormalizationGrouping(batch: n, channels: c, planeSize: shape[2] * shape[3], statistics: c,
                                     planesPerStatistic: n, plane: { s, k in k * c + s })
    }

    static func groupNorm(_ shape: [Int], groups: Int) -> NormalizationGrouping {
        let (n, c) = (shape[0], shape[1]), perGroup = c / groups
        return NormalizationGrouping(batch: n, channels: c, planeSize: shape[2] * shape[3], statistics: n * groups,
                                     planesPerStatistic: perGroup,
                                     plane: { s, k in (s / groups) * c + (s % groups) * perGroup + k })
    }
}

extension CPUBackend {
    public func batchNormTraining(_ input: Tensor, weight: Tensor, bias: Tensor, eps: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        precondition(input.rank == 4 && weight.count == input.shape[1] && bias.count == input.shape[1],
                     "batchNormTraining: input \(input.shape), weight \(weight.shape), bias \(bias.shape)")
        return normalize(input, weight: weight, bias: bias, eps: eps, .batchNorm(input.shape))
    }

    public func batchNormTrainingBackward(_ gradOutput: Tensor, input: Tensor, mean: Tensor, variance: Tensor,
                                          weight: Tensor, eps: Float, inputGradient: Bool, weightGradient: Bool,
                                          biasGradient: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        precondition(input.rank == 4 && gradOutput.shape == input.shape && mean.count == input.shape[1]
                     && variance.count == input.shape[1] && weight.count == input.shape[1],
                     "batchNormTrainingBackward: gradient \(gradOutput.shape), input \(input.shape), weight \(weight.shape)")
        return normalizeBackward(gradOutput, input: input, mean: mean, variance: variance, weight: weight, eps: eps,
                                 .batchNorm(input.shape), inputGradient: inputGradient,
                                 weightGradient: weightGradient, biasGradient: biasGradient)
    }

    public func groupNorm(_ input: Tensor, weight: Tensor, bias: Tensor, groups: Int, eps: Float)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        precondition(input.rank == 4 && groups > 0 && input.shape[1] % groups == 0 && weight.count == input.shape[1]
                     && bias.count == input.shape[1],
                     "groupNorm: input \(input.shape), \(groups) groups, weight \(weight.shape), bias \(bias.shape)")
        return normalize(input, weight: weight, bias: bias, eps: eps, .groupNorm(input.shape, groups: groups))
    }

    public func groupNormBackward(_ gradOutput: Tensor, input: Tensor, mean: Tensor, variance: Tensor, weight: Tensor,
                                  groups: Int, eps: Float, inputGradient: Bool, weightGradient: Bool,
                                  biasGradient: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        precondition(input.rank == 4 && gradOutput.shape == input.shape && groups > 0 && input.shape[1] % groups == 0
                     && mean.count == input.shape[0] * groups && variance.count == mean.count && weight.count == input.shape[1],
                     "groupNormBackward: gradient \(gradOutput.shape), input \(input.shape), \(groups) groups")
        return normalizeBackward(gradOutput, input: input, mean: mean, variance: variance, weight: weight, eps: eps,
                                 .groupNorm(input.shape, groups: groups), inputGradient: inputGradient,
                                 weightGradient: weightGradient, biasGradient: biasGradient)
    }

    /// y = (x - mean[s]) / sqrt(var[s] + eps) * weight[c] + bias[c]; mean and biased variance per statistic.
    private func normalize(_ input: Tensor, weight: Tensor, bias: Tensor, eps: Float, _ g: NormalizationGrouping)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let out = Tensor(uninitializedShape: input.shape)
        let mean = Tensor(uninitializedShape: [g.statistics]), variance = Tensor(uninitializedShape: [g.statistics])
        let x = input.storage.pointer, y = out.storage.pointer, w = weight.storage.pointer, b = bias.storage.pointer
        let mp = mean.storage.pointer, vp = variance.storage.pointer
        let size = g.planeSize, count = Double(max(g.elements, 1))
        threads.parallelRanges(g.statistics, costPerItem: g.elements * 3) { range in
            for s in range {
                var sum = 0.0
                for k in 0..<g.planesPerStatistic {
                    let p = x + g.plane(s, k) * size
                    for i in 0..<size { sum += Double(p[i]) }
                }
                let m = sum / count
                var squares = 0.0
                for k in 0..<g.planesPerStatistic {
                    let p = x + g.plane(s, k) * size
                    for i in 0..<size { let d = Double(p[i]) - m; squares += d * d }
                }
                let v = squares / count
                mp[s] = Float(m)
                vp[s] = Float(v)
                let invStd = Float(1 / (v + Double(eps)).squareRoot()), mf = Float(m)
                for k in 0..<g.planesPerStatistic {
                    let plane = g.plane(s, k), c = plane % g.channels
                    let scale = invStd * w[c], shift = b[c] - mf * scale
                    let src = x + plane * size, dst = y + plane * size
                    for i in 0..<size { dst[i] = src[i] * scale + shift }
                }
            }
        }
        return (out, mean, variance)
    }

    /// With xhat = (x - mean) * invStd and M elements per statistic:
    /// dbias[c] = sum dy, dweight[c] = sum dy * xhat (over the planes of channel c),
    /// dx = invStd * (dy * w[c] - sum(dy * w) / M - xhat * sum(dy * w * xhat) / M) (sums over the statistic).
    private func normalizeBackward(_ gradOutput: Tensor, input: Tensor, mean: Tensor, variance: Tensor, weight: Tensor,
                                   eps: Float, _ g: NormalizationGrouping, inputGradient: Bool, weightGradient: Bool,
                                   biasGradient: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let dx = inputGradient ? Tensor(uninitializedShape: input.shape) : nil
        let planes = g.batch * g.channels
        // Per plane: sum dy and sum dy * xhat (reduced per channel below).
        var planeSums = [Double](repeating: 0, count: planes * 2)
        let x = input.storage.pointer, dy = gradOutput.storage.pointer, w = weight.storage.pointer
        let mp = mean.storage.pointer, vp = variance.storage.pointer, dxp = dx?.storage.pointer
        let size = g.planeSize, count = Double(max(g.elements, 1))
        planeSums.withUnsafeMutableBufferPointer { sums in
            let sums = sums.baseAddress!
            threads.parallelRanges(g.statistics, costPerItem: g.elements * 3) { range in
                for s in range {
                    let m = mp[s], invStd = 1 / (vp[s] + eps).squareRoot()
                    var weighted = 0.0, weightedXhat = 0.0
                    for k in 0..<g.planesPerStatistic {
                        let plane = g.plane(s, k), c = plane % g.channels
                        let src = x + plane * size, grad = dy + plane * size
                        var sumDy = 0.0, sumDyXhat = 0.0
                        for i in 0..<size {
                            let d = Double(grad[i])
                            sumDy += d
                            sumDyXhat += d * Double((src[i] - m) * invStd)
                        }
                        sums[plane * 2] = sumDy
                        sums[plane * 2 + 1] = sumDyXhat
                        weighted += sumDy * Double(w[c])
                        weightedXhat += sumDyXhat * Double(w[c])
                    }
                    guard let dxp else { continue }
                    let a = Float(weighted / count), bx = Float(weightedXhat / count)
                    for k in 0..<g.planesPerStatistic {
                        let plane = g.plane(s, k), c = plane % g.channels
                        let src = x + plane * size, grad = dy + plane * size, dst = dxp + plane * size
                        let wc = w[c]
                        for i in 0..<size {
                            let xhat = (src[i] - m) * invStd
                            dst[i] = invStd * (grad[i] * wc - a - xhat * bx)
                        }
                    }
                }
            }
        }
        func perChannel(_ offset: Int) -> Tensor {
            var total = [Double](repeating: 0, count: g.channels)
            for plane in 0..<planes { total[plane % g.channels] += planeSums[plane * 2 + offset] }
            return Tensor(shape: [g.channels], values: total.map { Float($0) })
        }
        return (dx, weightGradient ? perChannel(1) : nil, biasGradient ? perChannel(0) : nil)
    }
}
