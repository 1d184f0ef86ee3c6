// The trainable model's named tensors, in torchvision's state-dict key order and
// spelling: parameters (leaf Variables the optimizer updates) and frozen buffers
// (FrozenBatchNorm2d statistics, exported unchanged). Built either from a state
// dict (torchvision checkpoint or one of vision's own) or from torchvision's
// default initialisations, drawn from a seeded TrainingRNG.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection

public struct TrainingModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = "VisionTraining: \(description)" }
}

public final class ModelParameters {
    /// Every key in registration order (torchvision's module order).
    public private(set) var keys: [String] = []
    /// Trainable and frozen parameters by key.
    public private(set) var variables: [String: Variable] = [:]
    /// Batch-norm statistics (and a frozen batch norm's affine) by key.
    public private(set) var buffers: [String: Tensor] = [:]
    /// The name-verifying loader inference uses too; nil when training from scratch.
    /// Dropped by `finish` (parameters hold copies), so a model does not keep the checkpoint alive.
    private var reader: WeightReader?
    /// Keys that may be initialised when the checkpoint lacks them or has another shape (the predictor).
    private let resettable: (String) -> Bool
    private var rng: TrainingRNG
    /// Keys that were initialised rather than loaded.
    public private(set) var initialized: [String] = []

    public init(source: StateDict?, sourceName: String, seed: UInt64, resettable: @escaping (String) -> Bool = { _ in false }) {
        reader = source.map { WeightReader(stateDict: $0, source: sourceName, aliases: CheckpointKeyAliases.table) }
        self.rng = TrainingRNG(seed: seed, stream: 7, index: 0)
        self.resettable = resettable
    }

    /// A copy of the checkpoint's tensor (training writes into parameters), nil when absent.
    private func loaded(_ key: String, shape: [Int]) -> Tensor? {
        reader?.loadedTensor(key, shape: shape)?.copy()
    }

    /// A parameter: loaded from the source when present, else initialised.
    public func parameter(_ key: String, shape: [Int], initializer: ParameterInit, trainable: Bool) -> Variable {
        let value = loaded(key, shape: shape) ?? initialize(key, shape: shape, initializer)
        let v = Variable(value, requiresGrad: trainable)
        keys.append(key)
        variables[key] = v
        return v
    }

    /// A buffer (batch-norm statistic) loaded or filled with `fill`.
    public func buffer(_ key: String, shape: [Int], fill: Float) -> Tensor {
        let value = loaded(key, shape: shape) ?? { initialized.append(key); return Tensor(shape: shape, repeating: fill) }()
        keys.append(key)
        buffers[key] = value
        return value
    }

    /// BatchNorm2d's `num_batches_tracked` (a scalar, shape []): the checkpoint's count when it
    /// has one (torchvision's and vision's own live batch norms do), else 0. Its absence is not
    /// an error (torch's BatchNorm loads such state dicts too) and not counted as initialised.
    public func counter(_ key: String) -> Tensor {
        let present = reader?.shape(of: key) != nil
        let value = (present ? loaded(key, shape: []) : nil) ?? Tensor(shape: [], repeating: 0)
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

    /// Throws a WeightVerificationError naming every missing key, unused key and
    /// wrong-shaped tensor of the source (outside the resettable keys).
    public func finish() throws {
        try reader?.finish(allowingAbsent: resettable)
        reader = nil
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
