// The trainable model's named tensors, in torchvision's state-dict key order and
// spelling: parameters (leaf Variables the optimizer updates) and frozen buffers
// (FrozenBatchNorm2d statistics, exported unchanged). Built either from a state
// dict (torchvision checkpoint or one of vision's own) or from torchvision's
// default initialisations, drawn from a seeded TrainingRNG.

import Foundation
import VisionCheckpoint
import VisionCore

/// How a parameter is initialised when the checkpoint does not provide it.
public enum ParameterInit: Sendable {
    /// nn.init.kaiming_normal_(mode="fan_out", nonlinearity="relu"): std sqrt(2 / (shape[0] * receptive field)).
    case kaimingNormalFanOut
    /// nn.init.kaiming_uniform_(a: a) with fan_in = shape[1] * receptive field.
    case kaimingUniform(a: Float)
    /// nn.Linear's default bias: uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    case uniformFanIn(Int)
    case normal(std: Float)
    case constant(Float)
}

public struct TrainingModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = "VisionTraining: \(description)" }
}

public final class ModelParameters {
    /// Every key in registration order (torchvision's module order).
    public private(set) var keys: [String] = []
    /// Trainable and frozen parameters by key.
    public private(set) var variables: [String: Variable] = [:]
    /// Frozen batch-norm statistics and affine by key.
    public private(set) var buffers: [String: Tensor] = [:]
    private let source: StateDict?
    private let sourceName: String
    /// Keys that may be re-initialised when the checkpoint's shape differs (the predictor).
    private let resettable: (String) -> Bool
    private var rng: TrainingRNG
    private var problems: [String] = []
    /// Keys that were initialised rather than loaded.
    public private(set) var initialized: [String] = []

    public init(source: StateDict?, sourceName: String, seed: UInt64, resettable: @escaping (String) -> Bool = { _ in false }) {
        self.source = source
        self.sourceName = sourceName
        self.rng = TrainingRNG(seed: seed, stream: 7, index: 0)
        self.resettable = resettable
    }

    private func loaded(_ key: String, shape: [Int]) -> Tensor? {
        guard let source else { return nil }
        guard let t = source[key] ?? Self.oldSpelling(of: key).flatMap({ source[$0] }) else {
            if !resettable(key) { problems.append("missing \(key)") }
            return nil
        }
        guard t.count == Tensor.elementCount(shape) else {
            if !resettable(key) { problems.append("\(key): shape \(t.shape), expected \(shape)") }
            return nil
        }
        return t.copy().reshaped(shape)
    }

    /// Older torchvision checkpoints spell the single RPN conv and the FPN convs without
    /// the Conv2dNormActivation level: rpn.head.conv.weight for rpn.head.conv.0.0.weight,
    /// backbone.fpn.inner_blocks.0.weight for backbone.fpn.inner_blocks.0.0.weight.
    static func oldSpelling(of key: String) -> String? {
        if key.hasPrefix("rpn.head.conv.0.0.") { return "rpn.head.conv." + key.dropFirst("rpn.head.conv.0.0.".count) }
        for kind in ["inner_blocks", "layer_blocks"] where key.hasPrefix("backbone.fpn.\(kind).") {
            let parts = key.split(separator: ".")
            if parts.count == 6, parts[4] == "0" { return parts[0..<4].joined(separator: ".") + "." + parts[5] }
        }
        return nil
    }

    /// A parameter: loaded from the source when present, else initialised.
    public func parameter(_ key: String, shape: [Int], initializer: ParameterInit, trainable: Bool) -> Variable {
        let value = loaded(key, shape: shape) ?? initialize(key, shape: shape, initializer)
        let v = Variable(value, requiresGrad: trainable)
        keys.append(key)
        variables[key] = v
        return v
    }

    /// A frozen buffer (batch-norm statistic) loaded or filled with `fill`.
    public func buffer(_ key: String, shape: [Int], fill: Float) -> Tensor {
        let value = loaded(key, shape: shape) ?? { initialized.append(key); return Tensor(shape: shape, repeating: fill) }()
        keys.append(key)
        buffers[key] = value
        return value
    }

    private func initialize(_ key: String, shape: [Int], _ initializer: ParameterInit) -> Tensor {
        initialized.append(key)
        let t = Tensor(uninitializedShape: shape)
        let receptive = shape.dropFirst(2).reduce(1, *)
        let fanIn = (shape.count > 1 ? shape[1] : 1) * receptive
        let fanOut = shape[0] * receptive
        let p = t.storage.pointer
        switch initializer {
        case .kaimingNormalFanOut:
            let std = (2 / Float(fanOut)).squareRoot()
            for i in 0..<t.count { p[i] = rng.normal() * std }
        case .kaimingUniform(let a):
            let bound = (3 * 2 / ((1 + a * a) * Float(fanIn))).squareRoot()
            for i in 0..<t.count { p[i] = (rng.uniform() * 2 - 1) * bound }
        case .uniformFanIn(let n):
            let bound = 1 / Float(n).squareRoot()
            for i in 0..<t.count { p[i] = (rng.uniform() * 2 - 1) * bound }
        case .normal(let std):
            for i in 0..<t.count { p[i] = rng.normal() * std }
        case .constant(let c):
            for i in 0..<t.count { p[i] = c }
        }
        return t
    }

    /// Throws when the source lacked keys or had wrong shapes (outside the resettable ones).
    public func finish() throws {
        guard problems.isEmpty else {
            let list = problems.prefix(20).joined(separator: "; ")
            throw TrainingModelError("\(sourceName): \(problems.count) weight problem(s): \(list)")
        }
    }

    /// Trainable parameters with their keys, in key order.
    public var trainable: [(key: String, variable: Variable)] {
        keys.compactMap { k in variables[k].flatMap { $0.requiresGrad ? (k, $0) : nil } }
    }

    /// Everything, torchvision key names, Float32 (copies, safe to write while training goes on).
    public func stateDict() -> StateDict {
        StateDict(keys.map { k in (k, (variables[k]?.value ?? buffers[k]!).copy()) })
    }
}
