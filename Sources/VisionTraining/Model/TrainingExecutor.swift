// The training executor: runs the architectures VisionDetection defines once
// (backbone bodies, FPN, RPN head, box head, predictor) on the autograd tape.
// Parameters are torchvision's, registered in ModelParameters in module order;
// which of them train is a predicate over their names, as torchvision freezes by
// name. Batch norms are frozen (FrozenBatchNorm2d), as in torchvision's detection
// builders for the ResNet and MobileNet bodies.

import VisionCore
import VisionDetection

public final class TrainingExecutor: LayerExecutor {
    let parameters: ModelParameters
    /// Whether the parameter with this full key trains.
    let trains: (String) -> Bool
    /// The tape the current forward pass records onto (each step sets a new one).
    var tape = Tape(threads: .single)

    init(parameters: ModelParameters, trains: @escaping (String) -> Bool) {
        self.parameters = parameters
        self.trains = trains
    }

    public func makeConv(_ spec: ConvSpec) -> ConvUnit {
        ConvUnit(parameters, spec, trainable: trains("\(spec.conv).weight"))
    }

    public func makeLinear(_ spec: LinearSpec) -> LinearUnit {
        LinearUnit(parameters, spec, trainable: trains("\(spec.prefix).weight"))
    }

    public func conv(_ layer: ConvUnit, _ x: Variable) -> Variable { layer(x, tape: tape) }

    public func linear(_ layer: LinearUnit, _ x: Variable) -> Variable { layer(x, tape: tape) }

    public func add(_ a: Variable, _ b: Variable, activation: Activation) -> Variable {
        tape.activation(tape.add(a, b), activation)
    }

    public func maxPool2d(_ x: Variable, kernel: Int, stride: Int, padding: Int) -> Variable {
        tape.maxPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }

    public func globalAveragePool(_ x: Variable) -> Variable { tape.globalAveragePool(x) }

    public func scaleChannels(_ x: Variable, by scale: Variable) -> Variable { tape.scaleChannels(x, by: scale) }

    public func upsampleNearest(_ x: Variable, height: Int, width: Int) -> Variable {
        tape.upsampleNearest(x, height: height, width: width)
    }

    public func shape(of x: Variable) -> [Int] { x.shape }
}
