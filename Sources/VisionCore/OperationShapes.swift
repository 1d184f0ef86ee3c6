// Argument checks and output geometry every backend applies the same way (the CPU
// backends and the Vulkan backend), so a bad call fails with the same message on each.

/// prepareConv2D's checks: weight [Cout, Cin/groups, kH, kW], sane parameters, groups
/// dividing Cout, bias [Cout] or nil.
public func checkConv2DWeights(weight: Tensor, bias: Tensor?, parameters p: Conv2DParameters) {
    precondition(weight.rank == 4, "conv weight must be [Cout, Cin/groups, kH, kW], got \(weight.shape)")
    precondition(p.groups > 0 && p.strideH > 0 && p.strideW > 0 && p.dilationH > 0 && p.dilationW > 0
                 && p.padH >= 0 && p.padW >= 0, "bad conv parameters \(p)")
    precondition(weight.shape[0] % p.groups == 0, "groups \(p.groups) must divide Cout \(weight.shape[0])")
    if let bias { precondition(bias.count == weight.shape[0], "conv bias \(bias.shape) does not match Cout \(weight.shape[0])") }
}

/// concat's checks and layout for inputs of `shapes` along `axis` (negative counts from the
/// end): the output shape, the axis made non-negative, and the products of the dimensions
/// before (`outer`) and after (`inner`) it. Input i is `outer` blocks of shape_i[axis] * inner.
public func concatLayout(_ shapes: [[Int]], axis: Int) -> (shape: [Int], axis: Int, outer: Int, inner: Int) {
    precondition(!shapes.isEmpty, "concat of no tensors")
    let first = shapes[0]
    let axis = axis < 0 ? axis + first.count : axis
    precondition(axis >= 0 && axis < first.count, "concat axis \(axis) out of range for shape \(first)")
    for s in shapes {
        precondition(s.count == first.count, "concat of mismatched ranks \(first) and \(s)")
        for d in 0..<first.count where d != axis {
            precondition(s[d] == first[d], "concat of mismatched shapes \(first) and \(s) along axis \(axis)")
        }
    }
    var shape = first
    shape[axis] = shapes.reduce(0) { $0 + $1[axis] }
    return (shape, axis, first[..<axis].reduce(1, *), first[(axis + 1)...].reduce(1, *))
}
