// Pooling, upsampling, element-wise operations, softmax and concatenation on the device.
// Layouts as the protocol's: NCHW feature maps, softmax over the last axis.

import VisionCore

extension VulkanBackend {
    public func maxPool2d(_ input: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        precondition(input.rank == 4, "maxPool2d input must be [N, C, H, W], got \(input.shape)")
        precondition(kernel > 0 && stride > 0 && padding >= 0 && padding <= kernel / 2,
                     "bad max_pool2d arguments kernel \(kernel) stride \(stride) padding \(padding)")
        let inH = input.shape[2], inW = input.shape[3]
        let outH = (inH + 2 * padding - kernel) / stride + 1, outW = (inW + 2 * padding - kernel) / stride + 1
        precondition(outH > 0 && outW > 0, "max_pool2d output would be empty for input \(input.shape)")
        let planes = input.shape[0] * input.shape[1]
        return launch([input.shape[0], input.shape[1], outH, outW], .maxPool, inputs: [input], threads: planes * outH * outW,
                      push: [planes, inH, inW, outH, outW, kernel, stride, padding])
    }

    public func globalAveragePool(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "globalAveragePool input must be [N, C, H, W], got \(input.shape)")
        let planes = input.shape[0] * input.shape[1]
        // One 256-thread workgroup per plane.
        return launch([input.shape[0], input.shape[1], 1, 1], .globalAveragePool, inputs: [input],
                      threads: planes * 256, push: [planes, input.shape[2] * input.shape[3]])
    }

    public func upsampleNearest(_ input: Tensor, height: Int, width: Int) -> Tensor {
        precondition(input.rank == 4, "upsampleNearest input must be [N, C, H, W], got \(input.shape)")
        precondition(height > 0 && width > 0, "upsampleNearest to an empty size \(height)x\(width)")
        precondition(input.shape[2] > 0 && input.shape[3] > 0, "upsampleNearest of an empty map \(input.shape)")
        let planes = input.shape[0] * input.shape[1]
        return launch([input.shape[0], input.shape[1], height, width], .upsampleNearest, inputs: [input],
                      threads: planes * height * width, push: [planes, input.shape[2], input.shape[3], height, width])
    }

    public func add(_ a: Tensor, _ b: Tensor, activation: Activation) -> Tensor {
        precondition(a.shape == b.shape, "add of mismatched shapes \(a.shape) and \(b.shape)")
        return elementwise(op: 1, a, b, activation: activation, planeSize: 1)
    }

    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "multiply of mismatched shapes \(a.shape) and \(b.shape)")
        return elementwise(op: 2, a, b, activation: .identity, planeSize: 1)
    }

    public func scaleChannels(_ input: Tensor, by scale: Tensor) -> Tensor {
        precondition(input.rank == 4, "scaleChannels input must be [N, C, H, W], got \(input.shape)")
        let planes = input.shape[0] * input.shape[1]
        precondition(scale.count == planes && (scale.rank < 1 || scale.shape[0] == input.shape[0]),
                     "scale \(scale.shape) must be [N, C, 1, 1] for input \(input.shape)")
        return elementwise(op: 3, input, scale, activation: .identity, planeSize: max(1, input.shape[2] * input.shape[3]))
    }

    public func activate(_ input: Tensor, _ activation: Activation) -> Tensor {
        elementwise(op: 0, input, input, activation: activation, planeSize: 1)
    }

    public func softmax(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 1, "softmax needs at least one axis")
        let cols = input.shape[input.rank - 1]
        let rows = cols == 0 ? 0 : input.count / cols
        return launch(input.shape, .softmax, inputs: [input], threads: rows, push: [rows, cols])
    }

    public func concat(_ inputs: [Tensor], axis: Int) -> Tensor {
        let (shape, axis, outer, inner) = concatLayout(inputs.map(\.shape), axis: axis)
        let float = UInt64(MemoryLayout<Float>.stride)
        return locked {
            let (out, outBuffer) = makeTensor(shape)
            // Each input's `outer` blocks of axisSize * inner floats, copied into place.
            var axisOffset = 0
            for t in inputs {
                let size = t.shape[axis]
                let regions = (0..<outer).map { o in
                    (UInt64(o * size * inner) * float, UInt64((o * shape[axis] + axisOffset) * inner) * float,
                     UInt64(size * inner) * float)
                }
                context.copy(from: buffer(t, "concat").handle, to: outBuffer.handle, regions: regions)
                axisOffset += size
            }
            return out
        }
    }

    // MARK: - Launch helpers

    /// elementwise.comp: op 0 act(a), 1 act(a + b), 2 a * b, 3 a * b[i / planeSize].
    func elementwise(op: Int, _ a: Tensor, _ b: Tensor, activation: Activation, planeSize: Int) -> Tensor {
        launch(a.shape, .elementwise, inputs: [a, b], threads: a.count, push: [a.count, op, activation.vulkanCode, planeSize])
    }

    /// A new tensor of `shape` written by `kernel`, whose bindings are `inputs` then the output,
    /// over `threads` threads of 256-thread workgroups.
    func launch(_ shape: [Int], _ kernel: VulkanKernel, inputs: [Tensor], threads: Int, push: [Int]) -> Tensor {
        locked {
            let (out, outBuffer) = makeTensor(shape)
            guard threads > 0 && out.count > 0 else { return out }
            let buffers = inputs.map { buffer($0, kernel.rawValue).handle } + [outBuffer.handle]
            context.dispatch(kernel, buffers, push: push.map(\.push), groups: VulkanKernel.linearGroups(threads))
            return out
        }
    }
}
