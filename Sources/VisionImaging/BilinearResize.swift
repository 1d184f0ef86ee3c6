// Bilinear resize matching torch.nn.functional.interpolate(mode="bilinear",
// align_corners=False) on CPU, and the output-size rule of torchvision's
// GeneralizedRCNNTransform.

import VisionCore

/// The (height, width) torchvision's detection transform resizes an image to:
/// scale s = min(minSize / min(H, W), maxSize / max(H, W)) in Double, then
/// interpolate(scale_factor=s, recompute_scale_factor=True) gives
/// floor(H * s) x floor(W * s). E.g. 480x640 with 800/1333 -> 800x1066.
public func detectionResizeSize(height: Int, width: Int, minSize: Int, maxSize: Int) -> (height: Int, width: Int) {
    let shortSide = Double(min(height, width)), longSide = Double(max(height, width))
    let scale = min(Double(minSize) / shortSide, Double(maxSize) / longSide)
    return (Int((Double(height) * scale).rounded(.down)), Int((Double(width) * scale).rounded(.down)))
}

/// Per-output-position source indices and weights along one axis.
@usableFromInline
struct LinearAxisTaps {
    @usableFromInline var index0: [Int]
    @usableFromInline var index1: [Int]
    @usableFromInline var weight0: [Float]
    @usableFromInline var weight1: [Float]

    /// PyTorch's rule (UpSampleKernel.cpp, align_corners=False, no explicit
    /// scale): scale = Float(input) / Float(output); src = scale * (dst + 0.5)
    /// - 0.5, clamped at 0; i0 = min(floor(src), input - 1); l1 = clamp(src -
    /// i0, 0, 1); i1 = i0 + 1 unless i0 is the last index; l0 = 1 - l1. When
    /// output == input this degenerates to an exact copy (src = dst, l1 = 0).
    init(input: Int, output: Int) {
        index0 = [Int](repeating: 0, count: output)
        index1 = [Int](repeating: 0, count: output)
        weight0 = [Float](repeating: 1, count: output)
        weight1 = [Float](repeating: 0, count: output)
        let scale = Float(input) / Float(output)
        for dst in 0..<output {
            var src = scale * (Float(dst) + 0.5) - 0.5
            if src < 0 { src = 0 }
            let i0 = min(Int(src.rounded(.down)), input - 1)
            let lambda1 = min(max(src - Float(i0), 0), 1)
            index0[dst] = i0
            index1[dst] = i0 < input - 1 ? i0 + 1 : i0
            weight0[dst] = 1 - lambda1
            weight1[dst] = lambda1
        }
    }
}

/// Resizes every H x W plane of a [C, H, W] or [N, C, H, W] Float32 tensor to
/// height x width with bilinear interpolation, align_corners=False, giving
/// the same values as torch's CPU kernel (up to float rounding order):
/// out = (x[y0,x0]*wx0 + x[y0,x1]*wx1)*wy0 + (x[y1,x0]*wx0 + x[y1,x1]*wx1)*wy1.
///
/// Done separably with the same arithmetic: each input row needed is first
/// interpolated horizontally into one of two cached row buffers (an input row
/// serves several output rows when upscaling), then pairs of cached rows are
/// blended vertically.
public func resizeBilinear(_ x: Tensor, height: Int, width: Int) -> Tensor {
    precondition(x.rank == 3 || x.rank == 4, "resizeBilinear expects [C,H,W] or [N,C,H,W], got \(x.shape)")
    precondition(height > 0 && width > 0, "resizeBilinear to an empty size \(height)x\(width)")
    let inHeight = x.shape[x.rank - 2], inWidth = x.shape[x.rank - 1]
    precondition(inHeight > 0 && inWidth > 0, "resizeBilinear of an empty image \(x.shape)")
    var outShape = x.shape
    outShape[x.rank - 2] = height
    outShape[x.rank - 1] = width
    let planes = x.shape.dropLast(2).reduce(1, *)
    let output = Tensor(uninitializedShape: outShape)

    let rows = LinearAxisTaps(input: inHeight, output: height)
    let columns = LinearAxisTaps(input: inWidth, output: width)
    let rowCache = UnsafeMutablePointer<Float>.allocate(capacity: 2 * width)
    defer { rowCache.deallocate() }
    let source = x.storage.pointer, destination = output.storage.pointer
    rows.index0.withUnsafeBufferPointer { y0 in
    rows.index1.withUnsafeBufferPointer { y1 in
    rows.weight0.withUnsafeBufferPointer { wy0 in
    rows.weight1.withUnsafeBufferPointer { wy1 in
    columns.index0.withUnsafeBufferPointer { x0 in
    columns.index1.withUnsafeBufferPointer { x1 in
    columns.weight0.withUnsafeBufferPointer { wx0 in
    columns.weight1.withUnsafeBufferPointer { wx1 in
        let slots = [rowCache, rowCache + width]
        for plane in 0..<planes {
            let inPlane = source + plane &* inHeight &* inWidth
            let outPlane = destination + plane &* height &* width
            var tags = [-1, -1]  // input row held by each slot
            /// The slot holding input row `row`, filling a slot not holding `keep` if needed.
            func cachedRow(_ row: Int, keeping keep: Int) -> UnsafeMutablePointer<Float> {
                if tags[0] == row { return slots[0] }
                if tags[1] == row { return slots[1] }
                let slot = tags[0] == keep ? 1 : 0
                let src = inPlane + row &* inWidth, buffer = slots[slot]
                for ox in 0..<width {
                    buffer[ox] = src[x0[ox]] * wx0[ox] + src[x1[ox]] * wx1[ox]
                }
                tags[slot] = row
                return buffer
            }
            for oy in 0..<height {
                let top = cachedRow(y0[oy], keeping: y1[oy])
                let bottom = cachedRow(y1[oy], keeping: y0[oy])
                let topWeight = wy0[oy], bottomWeight = wy1[oy]
                let outRow = outPlane + oy &* width
                for ox in 0..<width {
                    outRow[ox] = top[ox] * topWeight + bottom[ox] * bottomWeight
                }
            }
        }
    }}}}}}}}
    return output
}
