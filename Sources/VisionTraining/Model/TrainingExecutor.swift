// The training executor: runs the architectures VisionDetection defines once
// (backbone bodies, FPN, RPN head, box head, predictor) on the autograd tape.
// Parameters are torchvision's, registered in ModelParameters in module order;
// which of them train is a predicate over their names, as torchvision freezes by
// name. A batch norm is frozen (FrozenBatchNorm2d, torchvision's choice for pretrained
// ResNet and MobileNet bodies) or live (BatchNorm2d in train mode: v2's FPN, box head and
// body, and any body trained from scratch), as a second predicate over its prefix says.

import VisionCore
import VisionDetection

public final class TrainingExecutor: LayerExecutor {
    let parameters: ModelParameters
    /// Whether the parameter with this full key trains.
    let trains: (String) -> Bool
    /// Whether the batch norm with this prefix (e.g. `backbone.fpn.inner_blocks.0.1`) is a live BatchNorm2d.
    let liveBatchNorm: (String) -> Bool
    /// The tape the current forward pass records onto (each step sets a new one).
    var tape = Tape(threads: .single)

    init(parameters: ModelParameters, trains: @escaping (String) -> Bool, liveBatchNorm: @escaping (String) -> Bool) {
        self.parameters = parameters
        self.trains = trains
        self.liveBatchNorm = liveBatchNorm
    }

    public func makeConv(_ spec: ConvSpec) -> ConvUnit {
        let norm = spec.batchNorm
        return ConvUnit(parameters, spec, trainable: trains("\(spec.conv).weight"),
                        liveBatchNorm: norm.map(liveBatchNorm) ?? false,
                        normTrainable: norm.map { trains("\($0).weight") } ?? false)
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
