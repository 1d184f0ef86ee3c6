// A minimal reverse-mode tape. Every differentiable op appends the Variable it
// produced; `Tape.backward` walks them newest first, handing each its accumulated
// gradient so it can push gradients to its inputs. Creation order is a topological
// order, so one reverse pass suffices even when a variable feeds several ops (the
// RPN head runs once per FPN level; FPN adds lateral and top-down paths).
//
// Gradients are accumulated out of place (grad = grad + g as a new tensor), because
// one gradient tensor may be handed to several inputs (add passes dY to both).
// Every op runs its forward and backward on the tape's GradientBackend (VisionCore),
// so a device backend trains without changes here.

import VisionCore

public final class Variable {
    /// The forward value. Shape conventions are those of the op that made it (NCHW for maps).
    public let value: Tensor
    /// The accumulated gradient of the objective w.r.t. `value` (same shape), nil while none arrived.
    public internal(set) var grad: Tensor?
    /// False for constants (inputs, frozen weights): no gradient is accumulated for them.
    public let requiresGrad: Bool
    /// Pushes this variable's gradient to its inputs; nil for leaves.
    let backwardFunction: ((Tensor) -> Void)?

    /// A leaf: a parameter (`requiresGrad: true`) or a constant input.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.backwardFunction = nil
    }

    init(value: Tensor, backward: @escaping (Tensor) -> Void) {
        self.value = value
        self.requiresGrad = true
        self.backwardFunction = backward
    }

    public var shape: [Int] { value.shape }

    /// Adds `g` (same element count as `value`) to the gradient on `backend`. Ignored for constants.
    public func accumulateGrad(_ g: Tensor, backend: GradientBackend) {
        guard requiresGrad else { return }
        precondition(g.count == value.count, "gradient of \(g.count) floats for a value of shape \(value.shape)")
        if let existing = grad {
            grad = backend.addGradients(existing, g)
        } else {
            grad = g.shape == value.shape ? g : g.reshaped(value.shape)
        }
    }

    /// Forgets the gradient (before the next step's backward).
    public func zeroGrad() { grad = nil }
}

public final class Tape {
    private var nodes: [Variable] = []
    /// Runs every recorded op's forward and backward pass, and adds up gradients.
    public let backend: GradientBackend

    public init(backend: GradientBackend) {
        self.backend = backend
    }

    /// A tape on a CPU backend whose kernel calls use at most `threads`.
    public convenience init(threads: KernelThreads) {
        self.init(backend: CPUBackend(threads: threads))
    }

    /// Number of recorded ops.
    public var count: Int { nodes.count }

    /// Records an op's output. When no input needs a gradient the output is a constant
    /// and nothing is recorded.
    public func record(_ value: Tensor, inputs: [Variable], backward: @escaping (Tensor) -> Void) -> Variable {
        guard inputs.contains(where: { $0.requiresGrad }) else { return Variable(value) }
        let v = Variable(value: value, backward: backward)
        nodes.append(v)
        return v
    }

    /// Seeds each (variable, gradient) pair, then runs every recorded op's backward
    /// newest first. Intermediate gradients are released as soon as they are used;
    /// leaves (parameters) keep theirs. The tape is emptied.
    public func backward(_ seeds: [(Variable, Tensor)]) {
        for (v, g) in seeds { v.accumulateGrad(g, backend: backend) }
        for node in nodes.reversed() {
            guard let g = node.grad, let push = node.backwardFunction else { continue }
            node.grad = nil
            push(g)
        }
        nodes.removeAll()
    }
}
