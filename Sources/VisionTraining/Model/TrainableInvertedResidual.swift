// The MobileNet block as a trainable graph, shared by the MobileNetV3 and MobileNetV2
// bodies (V2's blocks have no squeeze-excitation).

import VisionCore

/// Inverted residual: [expand 1x1] -> depthwise kxk -> [SE: mean over HxW -> fc1 -> fc2 ->
/// scale] -> project 1x1 (+ input). x [N, Cin, H, W] -> [N, Cout, H/stride, W/stride].
struct TrainableInvertedResidual {
    let expand: ConvUnit?, depthwise: ConvUnit, fc1: ConvUnit?, fc2: ConvUnit?, project: ConvUnit
    let residual: Bool

    func callAsFunction(_ x: Variable, tape: Tape) -> Variable {
        var y = expand.map { $0(x, tape: tape) } ?? x
        y = depthwise(y, tape: tape)
        if let fc1, let fc2 {
            y = tape.scaleChannels(y, by: fc2(fc1(tape.globalAveragePool(y), tape: tape), tape: tape))
        }
        y = project(y, tape: tape)
        return residual ? tape.add(y, x) : y
    }
}
