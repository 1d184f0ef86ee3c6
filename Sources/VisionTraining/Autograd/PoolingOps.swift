// Differentiable pooling and resampling: max_pool2d, global average pooling, nearest upsampling.
// All NCHW.

import VisionCore
import VisionKernels

extension Tape {
    /// PyTorch max_pool2d (floor mode, no dilation); gradient goes to the first maximum of each window.
    public func maxPool2d(_ x: Variable, kernel: Int, stride: Int, padding: Int = 0) -> Variable {
        precondition(x.value.rank == 4, "maxPool2d: x must be [N, C, H, W], got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = maxPoolOutputSize(input: h, kernel: kernel, stride: stride, padding: padding)
        let ow = maxPoolOutputSize(input: w, kernel: kernel, stride: stride, padding: padding)
        let out = Tensor(uninitializedShape: [x.shape[0], x.shape[1], oh, ow])
        VisionKernels.maxPool2d(input: x.value.storage.pointer, output: out.storage.pointer, planes: planes,
                                inH: h, inW: w, kernel: kernel, stride: stride, padding: padding, threads: self.threads)
        return record(out, inputs: [x]) { dy in
            let dx = zeros(x.shape)
            maxPool2dBackward(input: x.value.storage.pointer, gradOutput: dy.storage.pointer, gradInput: dx.storage.pointer,
                              planes: planes, inH: h, inW: w, kernel: kernel, stride: stride, padding: padding, threads: self.threads)
            x.accumulateGrad(dx, threads: self.threads)
        }
    }

    /// adaptive_avg_pool2d(x, 1): [N, C, H, W] -> [N, C, 1, 1].
    public func globalAveragePool(_ x: Variable) -> Variable {
        precondition(x.value.rank == 4, "globalAveragePool: x must be [N, C, H, W], got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3]
        let out = Tensor(uninitializedShape: [x.shape[0], x.shape[1], 1, 1])
        VisionKernels.globalAveragePool(input: x.value.storage.pointer, output: out.storage.pointer,
                                        planes: planes, planeSize: plane, threads: self.threads)
        return record(out, inputs: [x]) { dy in
            let dx = zeros(x.shape)
            globalAveragePoolBackward(gradOutput: dy.storage.pointer, gradInput: dx.storage.pointer,
                                      planes: planes, planeSize: plane, threads: self.threads)
            x.accumulateGrad(dx, threads: self.threads)
        }
    }

    /// F.interpolate(x, size: (outH, outW), mode: "nearest").
    public func upsampleNearest(_ x: Variable, height outH: Int, width outW: Int) -> Variable {
        precondition(x.value.rank == 4, "upsampleNearest: x must be [N, C, H, W], got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let out = Tensor(uninitializedShape: [x.shape[0], x.shape[1], outH, outW])
        VisionKernels.upsampleNearest(input: x.value.storage.pointer, output: out.storage.pointer,
                                      planes: planes, inH: h, inW: w, outH: outH, outW: outW, threads: self.threads)
        return record(out, inputs: [x]) { dy in
            let dx = zeros(x.shape)
            upsampleNearestBackward(gradOutput: dy.storage.pointer, gradInput: dx.storage.pointer,
                                    planes: planes, inH: h, inW: w, outH: outH, outW: outW, threads: self.threads)
            x.accumulateGrad(dx, threads: self.threads)
        }
    }
}
