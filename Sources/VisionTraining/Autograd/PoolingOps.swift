// Differentiable pooling and resampling: max_pool2d, global average pooling, nearest upsampling.
// All NCHW; forward and backward run on the tape's backend.

import VisionCore

extension Tape {
    /// PyTorch max_pool2d (floor mode, no dilation); gradient goes to the first maximum of each window.
    public func maxPool2d(_ x: Variable, kernel: Int, stride: Int, padding: Int = 0) -> Variable {
        precondition(x.value.rank == 4, "maxPool2d: x must be [N, C, H, W], got \(x.shape)")
        let out = backend.maxPool2d(x.value, kernel: kernel, stride: stride, padding: padding)
        return record(out, inputs: [x]) { dy in
            x.accumulateGrad(self.backend.maxPool2dBackward(dy, input: x.value, kernel: kernel, stride: stride, padding: padding),
                             backend: self.backend)
        }
    }

    /// adaptive_avg_pool2d(x, 1): [N, C, H, W] -> [N, C, 1, 1].
    public func globalAveragePool(_ x: Variable) -> Variable {
        precondition(x.value.rank == 4, "globalAveragePool: x must be [N, C, H, W], got \(x.shape)")
        let out = backend.globalAveragePool(x.value)
        return record(out, inputs: [x]) { dy in
            x.accumulateGrad(self.backend.globalAveragePoolBackward(dy, inputShape: x.shape), backend: self.backend)
        }
    }

    /// F.interpolate(x, size: (outH, outW), mode: "nearest").
    public func upsampleNearest(_ x: Variable, height outH: Int, width outW: Int) -> Variable {
        precondition(x.value.rank == 4, "upsampleNearest: x must be [N, C, H, W], got \(x.shape)")
        let out = backend.upsampleNearest(x.value, height: outH, width: outW)
        return record(out, inputs: [x]) { dy in
            x.accumulateGrad(self.backend.upsampleNearestBackward(dy, inputShape: x.shape), backend: self.backend)
        }
    }
}
