// The CPU backend's training ops (GradientBackend) on the VisionKernels forward and
// backward kernels, with the backend's own `threads`. The backward kernels add into
// their outputs, so gradients start from zero-filled tensors (activationBackward
// writes every element and starts uninitialised).

import VisionKernels

extension CPUBackend: GradientBackend {
    public func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> Tensor {
        let g = convGeometry(input: input, weight: weight, parameters: parameters)
        let out = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outH, g.outW])
        VisionKernels.conv2d(input: input.storage.pointer, weight: weight.storage.pointer,
                             bias: bias.map { UnsafePointer($0.storage.pointer) },
                             output: out.storage.pointer, geometry: g, activation: .identity, threads: threads,
                             instructionSet: instructionSet, tiling: tiling)
        return out
    }

    public func conv2dBackward(_ gradOutput: Tensor, input: Tensor, weight: Tensor, parameters: Conv2DParameters,
                               inputGradient: Bool, weightGradient: Bool, biasGradient: Bool)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let g = convGeometry(input: input, weight: weight, parameters: parameters)
        let dx = inputGradient ? zeroTensor(input.shape) : nil
        let dw = weightGradient ? zeroTensor(weight.shape) : nil
        let db = biasGradient ? zeroTensor([g.outChannels]) : nil
        VisionKernels.conv2dBackward(input: input.storage.pointer, weight: weight.storage.pointer,
                                     gradOutput: gradOutput.storage.pointer, gradInput: dx?.storage.pointer,
                                     gradWeight: dw?.storage.pointer, gradBias: db?.storage.pointer, geometry: g, threads: threads,
                                     instructionSet: instructionSet)
        return (dx, dw, db)
    }

    public func linear(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (batch, inF, outF) = linearSizes(input: input, weight: weight)
        let out = Tensor(uninitializedShape: [batch, outF])
        VisionKernels.linear(input: input.storage.pointer, weight: weight.storage.pointer,
                             bias: bias.map { UnsafePointer($0.storage.pointer) },
                             output: out.storage.pointer, batch: batch, inFeatures: inF, outFeatures: outF,
                             activation: .identity, threads: threads)
        return out
    }

    public func linearBackward(_ gradOutput: Tensor, input: Tensor, weight: Tensor,
                               inputGradient: Bool, weightGradient: Bool, biasGradient: Bool)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let (batch, inF, outF) = linearSizes(input: input, weight: weight)
        let dx = inputGradient ? zeroTensor(input.shape) : nil
        let dw = weightGradient ? zeroTensor(weight.shape) : nil
        let db = biasGradient ? zeroTensor([outF]) : nil
        VisionKernels.linearBackward(input: input.storage.pointer, weight: weight.storage.pointer,
                                     gradOutput: gradOutput.storage.pointer, gradInput: dx?.storage.pointer,
                                     gradWeight: dw?.storage.pointer, gradBias: db?.storage.pointer,
                                     batch: batch, inFeatures: inF, outFeatures: outF, threads: threads)
        return (dx, dw, db)
    }

    public func activationBackward(_ gradOutput: Tensor, input: Tensor, _ activation: Activation) -> Tensor {
        precondition(gradOutput.count == input.count, "activationBackward: gradient \(gradOutput.shape) for input \(input.shape)")
        let dx = Tensor(uninitializedShape: input.shape)
        VisionKernels.activationBackward(input: input.storage.pointer, gradOutput: gradOutput.storage.pointer,
                                         gradInput: dx.storage.pointer, count: dx.count,
                                         activation: activation.kernelActivation, threads: threads)
        return dx
    }

    public func channelAffine(_ input: Tensor, scale: Tensor, shift: Tensor) -> Tensor {
        precondition(input.rank == 4 && scale.count == input.shape[1] && shift.count == input.shape[1],
                     "channelAffine: input \(input.shape), scale \(scale.shape), shift \(shift.shape)")
        let c = input.shape[1], plane = input.shape[2] * input.shape[3]
        let out = Tensor(uninitializedShape: input.shape)
        let src = input.storage.pointer, dst = out.storage.pointer
        let s = scale.storage.pointer, b = shift.storage.pointer
        for p in 0..<(input.shape[0] * c) {
            let ch = p % c
            let k = s[ch], o = b[ch]
            for i in 0..<plane { dst[p &* plane &+ i] = src[p &* plane &+ i] * k + o }
        }
        return out
    }

    public func channelAffineBackward(_ gradOutput: Tensor, scale: Tensor) -> Tensor {
        precondition(gradOutput.rank == 4 && scale.count == gradOutput.shape[1],
                     "channelAffineBackward: gradient \(gradOutput.shape), scale \(scale.shape)")
        let dx = zeroTensor(gradOutput.shape)
        VisionKernels.channelAffineBackward(scale: scale.storage.pointer, gradOutput: gradOutput.storage.pointer,
                                            gradX: dx.storage.pointer, batch: gradOutput.shape[0], channels: gradOutput.shape[1],
                                            planeSize: gradOutput.shape[2] * gradOutput.shape[3], threads: threads)
        return dx
    }

    public func multiplyBackward(_ gradOutput: Tensor, _ a: Tensor, _ b: Tensor, aGradient: Bool, bGradient: Bool)
        -> (a: Tensor?, b: Tensor?) {
        precondition(a.count == b.count && gradOutput.count == a.count,
                     "multiplyBackward: gradient \(gradOutput.shape) for \(a.shape) * \(b.shape)")
        let da = aGradient ? zeroTensor(a.shape) : nil
        let db = bGradient ? zeroTensor(b.shape) : nil
        VisionKernels.multiplyBackward(a.storage.pointer, b.storage.pointer, gradOutput: gradOutput.storage.pointer,
                                       gradA: da?.storage.pointer, gradB: db?.storage.pointer, count: gradOutput.count,
                                       threads: threads)
        return (da, db)
    }

    public func scaleChannelsBackward(_ gradOutput: Tensor, input: Tensor, scale: Tensor,
                                      inputGradient: Bool, scaleGradient: Bool) -> (input: Tensor?, scale: Tensor?) {
        precondition(input.rank == 4 && scale.count == input.shape[0] * input.shape[1] && gradOutput.count == input.count,
                     "scaleChannelsBackward: gradient \(gradOutput.shape), input \(input.shape), scale \(scale.shape)")
        let dx = inputGradient ? zeroTensor(input.shape) : nil
        let ds = scaleGradient ? zeroTensor(scale.shape) : nil
        VisionKernels.scaleChannelsBackward(input.storage.pointer, scale: scale.storage.pointer,
                                            gradOutput: gradOutput.storage.pointer, gradX: dx?.storage.pointer,
                                            gradScale: ds?.storage.pointer, planes: input.shape[0] * input.shape[1],
                                            planeSize: input.shape[2] * input.shape[3], threads: threads)
        return (dx, ds)
    }

    public func maxPool2dBackward(_ gradOutput: Tensor, input: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        precondition(input.rank == 4, "maxPool2dBackward: input must be [N, C, H, W], got \(input.shape)")
        let dx = zeroTensor(input.shape)
        VisionKernels.maxPool2dBackward(input: input.storage.pointer, gradOutput: gradOutput.storage.pointer,
                                        gradInput: dx.storage.pointer, planes: input.shape[0] * input.shape[1],
                                        inH: input.shape[2], inW: input.shape[3], kernel: kernel, stride: stride,
                                        padding: padding, threads: threads)
        return dx
    }

    public func globalAveragePoolBackward(_ gradOutput: Tensor, inputShape: [Int]) -> Tensor {
        precondition(inputShape.count == 4 && gradOutput.count == inputShape[0] * inputShape[1],
                     "globalAveragePoolBackward: gradient \(gradOutput.shape) for input \(inputShape)")
        let dx = zeroTensor(inputShape)
        VisionKernels.globalAveragePoolBackward(gradOutput: gradOutput.storage.pointer, gradInput: dx.storage.pointer,
                                                planes: inputShape[0] * inputShape[1], planeSize: inputShape[2] * inputShape[3],
                                                threads: threads)
        return dx
    }

    public func upsampleNearestBackward(_ gradOutput: Tensor, inputShape: [Int]) -> Tensor {
        precondition(inputShape.count == 4 && gradOutput.rank == 4 && Array(gradOutput.shape[..<2]) == Array(inputShape[..<2]),
                     "upsampleNearestBackward: gradient \(gradOutput.shape) for input \(inputShape)")
        let dx = zeroTensor(inputShape)
        VisionKernels.upsampleNearestBackward(gradOutput: gradOutput.storage.pointer, gradInput: dx.storage.pointer,
                                              planes: inputShape[0] * inputShape[1], inH: inputShape[2], inW: inputShape[3],
                                              outH: gradOutput.shape[2], outW: gradOutput.shape[3], threads: threads)
        return dx
    }

    public func roiAlignBackward(_ gradOutput: Tensor, featureShapes: [[Int]], _ request: RoIAlignRequest,
                                 mapGradient: [Bool]) -> [Tensor?] {
        let roiCount = request.batchIndices.count
        precondition(featureShapes.count == request.spatialScales.count && mapGradient.count == featureShapes.count
                     && featureShapes.allSatisfy { $0.count == 4 } && request.boxes.count == roiCount * 4
                     && (request.levels?.count ?? roiCount) == roiCount,
                     "roiAlignBackward: maps \(featureShapes), \(request.spatialScales.count) scales, \(roiCount) RoIs")
        return featureShapes.indices.map { l -> Tensor? in
            guard mapGradient[l] else { return nil }
            let f = featureShapes[l]
            let dx = zeroTensor(f)
            let geometry = RoIAlignGeometry(batch: f[0], channels: f[1], height: f[2], width: f[3],
                                            pooledHeight: request.outputHeight, pooledWidth: request.outputWidth,
                                            spatialScale: request.spatialScales[l], samplingRatio: request.samplingRatio,
                                            aligned: request.aligned)
            request.boxes.withUnsafeBufferPointer { b in
                request.batchIndices.withUnsafeBufferPointer { bi in
                    if let levels = request.levels {
                        levels.withUnsafeBufferPointer { lv in
                            VisionKernels.roiAlignBackward(gradOutput: gradOutput.storage.pointer, gradInput: dx.storage.pointer,
                                                           boxes: b.baseAddress!, batchIndices: bi.baseAddress!, roiCount: roiCount,
                                                           levels: lv.baseAddress!, level: l, geometry: geometry, threads: threads)
                        }
                    } else {
                        VisionKernels.roiAlignBackward(gradOutput: gradOutput.storage.pointer, gradInput: dx.storage.pointer,
                                                       boxes: b.baseAddress!, batchIndices: bi.baseAddress!, roiCount: roiCount,
                                                       geometry: geometry, threads: threads)
                    }
                }
            }
            return dx
        }
    }

    public func addGradients(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.count == b.count, "addGradients: \(a.shape) and \(b.shape) differ in size")
        let sum = Tensor(uninitializedShape: a.shape)
        VisionKernels.add(a.storage.pointer, b.storage.pointer, output: sum.storage.pointer,
                          count: sum.count, activation: .identity, threads: threads)
        return sum
    }

    public func flattenPredictions(_ levels: [Tensor], valuesPerAnchor v: Int) -> Tensor {
        let shapes = levels.map(\.shape)
        let (images, perImage) = flattenedPredictionSizes(shapes, valuesPerAnchor: v)
        let out = Tensor(uninitializedShape: [images * perImage, v])
        let dst = out.storage.pointer
        let sources = levels.map { $0.storage.pointer }
        walkFlattenedPredictions(shapes, valuesPerAnchor: v) { l, s, d in dst[d] = sources[l][s] }
        return out
    }

    public func flattenPredictionsBackward(_ gradOutput: Tensor, levelShapes: [[Int]], valuesPerAnchor v: Int) -> [Tensor] {
        let (images, perImage) = flattenedPredictionSizes(levelShapes, valuesPerAnchor: v)
        precondition(gradOutput.count == images * perImage * v,
                     "flattenPredictionsBackward: gradient \(gradOutput.shape) for levels \(levelShapes)")
        let grads = levelShapes.map { zeroTensor($0) }
        let g = gradOutput.storage.pointer
        let targets = grads.map { $0.storage.pointer }
        walkFlattenedPredictions(levelShapes, valuesPerAnchor: v) { l, s, d in targets[l][s] += g[d] }
        return grads
    }
}

/// A zero-filled tensor: the target the accumulating backward kernels add into.
private func zeroTensor(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

/// The kernels' geometry of a conv: input [N, Cin, H, W], weight [Cout, Cin/groups, kH, kW].
private func convGeometry(input: Tensor, weight: Tensor, parameters p: Conv2DParameters) -> ConvGeometry {
    precondition(input.rank == 4 && weight.rank == 4, "conv2d: input \(input.shape), weight \(weight.shape)")
    let ws = weight.shape
    return ConvGeometry(batch: input.shape[0], inChannels: input.shape[1], inH: input.shape[2], inW: input.shape[3],
                        outChannels: ws[0], kernelH: ws[2], kernelW: ws[3], strideH: p.strideH, strideW: p.strideW,
                        padH: p.padH, padW: p.padW, dilationH: p.dilationH, dilationW: p.dilationW, groups: p.groups)
}

/// (batch, inFeatures, outFeatures) of a linear: weight [out, in], input N * in floats.
private func linearSizes(input: Tensor, weight: Tensor) -> (Int, Int, Int) {
    precondition(weight.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
    let batch = input.shape.first ?? 0
    precondition(input.count == batch * weight.shape[1], "linear: input \(input.shape) does not flatten to [\(batch), \(weight.shape[1])]")
    return (batch, weight.shape[1], weight.shape[0])
}

/// (images, rows per image) of flattenPredictions over levels [N, A_l * v, H_l, W_l].
private func flattenedPredictionSizes(_ shapes: [[Int]], valuesPerAnchor v: Int) -> (Int, Int) {
    precondition(v > 0 && !shapes.isEmpty && shapes.allSatisfy { $0.count == 4 && $0[0] == shapes[0][0] && $0[1] % v == 0 },
                 "flattenPredictions: levels \(shapes), \(v) values per anchor")
    return (shapes[0][0], shapes.reduce(0) { $0 + $1[1] / v * $1[2] * $1[3] })
}

/// Visits every (level, element in that level, element of the flattened output) triple once;
/// the body picks the direction (gather forward, scatter-add backward).
private func walkFlattenedPredictions(_ shapes: [[Int]], valuesPerAnchor v: Int,
                                      _ body: (_ level: Int, _ src: Int, _ dst: Int) -> Void) {
    let (n, perImage) = flattenedPredictionSizes(shapes, valuesPerAnchor: v)
    var rowOffset = 0
    for (l, shape) in shapes.enumerated() {
        let anchors = shape[1] / v, hw = shape[2] * shape[3]
        for image in 0..<n {
            for a in 0..<anchors {
                for k in 0..<v {
                    let srcBase = ((image * anchors + a) * v + k) * hw
                    for p in 0..<hw {
                        let row = image * perImage + rowOffset + p * anchors + a
                        body(l, srcBase + p, row * v + k)
                    }
                }
            }
        }
        rowOffset += anchors * hw
    }
}
