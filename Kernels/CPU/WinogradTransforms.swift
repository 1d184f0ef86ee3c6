// The three transforms of Winograd F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2015): a 4x4 output tile of a 3x3 stride-1
// convolution is Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ) ] A, with d the 6x6 input patch and g the
// 3x3 filter. The 36 element-wise products become 36 GEMMs over channels.
//
//       | 4  0 -5  0  1  0 |         | 1/4    0     0   |        | 1  1  1  1  1  0 |
//       | 0 -4 -4  1  1  0 |         | -1/6 -1/6  -1/6  |   Aᵀ = | 0  1 -1  2 -2  0 |
//  Bᵀ = | 0  4 -4 -1  1  0 |     G = | -1/6  1/6  -1/6  |        | 0  1  1  4  4  0 |
//       | 0 -2 -1  2  1  0 |         | 1/24  1/12  1/6  |        | 0  1 -1  8 -8  1 |
//       | 0  2 -1 -2  1  0 |         | 1/24 -1/12  1/6  |
//       | 0  4  0 -5  0  1 |         | 0      0     1   |
//
// Transformed point xi = 6 * row + column of the 6x6 transformed tile.

/// Winograd F(4x4, 3x3) sizes.
public enum WinogradF43 {
    /// Output tile side.
    public static let tile = 4
    /// Input patch side (tile + kernel - 1).
    public static let window = 6
    /// Transformed points per tile (window²): one GEMM each.
    public static let points = 36
}

/// U = G g Gᵀ for every (out, in) filter, computed in Double; output channels
/// are split across threads (this runs once per conv at model load).
/// - weight: [Cout, Cin, 3, 3].
/// - output: [36, Cout, Cin] (point-major, so each point's slice is a GEMM A matrix).
public func winogradTransformWeights(
    weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, output: UnsafeMutablePointer<Float>,
    threads: KernelThreads
) {
    let pointStride = outChannels &* inChannels
    threads.parallelRanges(outChannels, costPerItem: inChannels &* 200) { range in
        for o in range {
            for i in 0..<inChannels {
                let filter = weight + (o &* inChannels &+ i) &* 9
                let dst = output + (o &* inChannels &+ i)
                // Columns: left = G g, [6, 3].
                var left = (Double(0), Double(0), Double(0), Double(0), Double(0), Double(0),
                            Double(0), Double(0), Double(0), Double(0), Double(0), Double(0),
                            Double(0), Double(0), Double(0), Double(0), Double(0), Double(0))
                withUnsafeMutableBytes(of: &left) { raw in
                    let l = raw.baseAddress!.assumingMemoryBound(to: Double.self)
                    for c in 0..<3 {
                        let g = winogradFilterLine(Double(filter[c]), Double(filter[3 &+ c]), Double(filter[6 &+ c]))
                        l[c] = g.0; l[3 &+ c] = g.1; l[6 &+ c] = g.2; l[9 &+ c] = g.3; l[12 &+ c] = g.4; l[15 &+ c] = g.5
                    }
                    // Rows: U = left Gᵀ, [6, 6].
                    for r in 0..<6 {
                        let u = winogradFilterLine(l[r &* 3], l[r &* 3 &+ 1], l[r &* 3 &+ 2])
                        let row = dst + (r &* 6) &* pointStride
                        row[0] = Float(u.0); row[pointStride] = Float(u.1); row[2 &* pointStride] = Float(u.2)
                        row[3 &* pointStride] = Float(u.3); row[4 &* pointStride] = Float(u.4)
                        row[5 &* pointStride] = Float(u.5)
                    }
                }
            }
        }
    }
}

/// G x for three filter taps.
@inline(__always)
func winogradFilterLine(_ g0: Double, _ g1: Double, _ g2: Double) -> (Double, Double, Double, Double, Double, Double) {
    (g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6, g0 / 24 + g1 / 12 + g2 / 6, g0 / 24 - g1 / 12 + g2 / 6, g2)
}

/// V = Bᵀ d B for one 6x6 patch. `patch` rows are `rowStride` floats apart;
/// `work` is 36 floats of scratch; point xi goes to `out[xi * pointStride]`.
@inline(__always)
func winogradInputTile(
    _ patch: UnsafePointer<Float>, rowStride s: Int, work t: UnsafeMutablePointer<Float>,
    _ out: UnsafeMutablePointer<Float>, pointStride ps: Int
) {
    // Columns: t = Bᵀ d (contiguous along j, so the compiler can vectorise it).
    let r0 = patch, r1 = patch + s, r2 = r1 + s, r3 = r2 + s, r4 = r3 + s, r5 = r4 + s
    for j in 0..<6 {
        let d0 = r0[j], d1 = r1[j], d2 = r2[j], d3 = r3[j], d4 = r4[j], d5 = r5[j]
        t[j] = 4 * d0 - 5 * d2 + d4
        t[6 &+ j] = d3 + d4 - 4 * (d1 + d2)
        t[12 &+ j] = d4 - d3 + 4 * (d1 - d2)
        t[18 &+ j] = d4 - d2 + 2 * (d3 - d1)
        t[24 &+ j] = d4 - d2 + 2 * (d1 - d3)
        t[30 &+ j] = 4 * d1 - 5 * d3 + d5
    }
    // Rows: V = t B.
    var o = out
    for i in 0..<6 {
        let row = t + i &* 6
        let d0 = row[0], d1 = row[1], d2 = row[2], d3 = row[3], d4 = row[4], d5 = row[5]
        o[0] = 4 * d0 - 5 * d2 + d4
        o[ps] = d3 + d4 - 4 * (d1 + d2)
        o[2 &* ps] = d4 - d3 + 4 * (d1 - d2)
        o[3 &* ps] = d4 - d2 + 2 * (d3 - d1)
        o[4 &* ps] = d4 - d2 + 2 * (d1 - d3)
        o[5 &* ps] = 4 * d1 - 5 * d3 + d5
        o += 6 &* ps
    }
}

/// Y = Aᵀ m A for one tile: reads point xi from `m[xi * pointStride]`, writes the
/// 4x4 result (row-major) to `y`; `work` is 24 floats of scratch.
@inline(__always)
func winogradOutputTile(
    _ m: UnsafePointer<Float>, pointStride ps: Int, work t: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>
) {
    // Columns: t = Aᵀ m, [4, 6].
    for j in 0..<6 {
        let m0 = m[j &* ps], m1 = m[(6 &+ j) &* ps], m2 = m[(12 &+ j) &* ps]
        let m3 = m[(18 &+ j) &* ps], m4 = m[(24 &+ j) &* ps], m5 = m[(30 &+ j) &* ps]
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        t[j] = m0 + a + c
        t[6 &+ j] = b + 2 * d
        t[12 &+ j] = a + 4 * c
        t[18 &+ j] = b + 8 * d + m5
    }
    // Rows: Y = t A, [4, 4].
    for i in 0..<4 {
        let r = t + i &* 6
        let a = r[1] + r[2], b = r[1] - r[2], c = r[3] + r[4], d = r[3] - r[4]
        y[i &* 4] = r[0] + a + c
        y[i &* 4 &+ 1] = b + 2 * d
        y[i &* 4 &+ 2] = a + 4 * c
        y[i &* 4 &+ 3] = b + 8 * d + r[5]
    }
}

// MARK: - Eight tiles at once

/// Eight tiles side by side in SIMD lanes: lane l is tile l of a group.
typealias Lanes = SIMD8<Float>

/// Bᵀ x along one line of six values (the same rows as `winogradInputTile`).
@inline(__always)
func winogradInputLine(_ d0: Lanes, _ d1: Lanes, _ d2: Lanes, _ d3: Lanes, _ d4: Lanes, _ d5: Lanes)
    -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
    let four: Lanes = Lanes(repeating: 4), five: Lanes = Lanes(repeating: 5), two: Lanes = Lanes(repeating: 2)
    return (four * d0 - five * d2 + d4,
            d3 + d4 - four * (d1 + d2),
            d4 - d3 + four * (d1 - d2),
            d4 - d2 + two * (d3 - d1),
            d4 - d2 + two * (d1 - d3),
            four * d1 - five * d3 + d5)
}

/// V = Bᵀ d B for eight patches at once. Lane l's patch rows start at
/// `rows[l] + r * strides[l]`; point xi of lane l goes to `out[xi * pointStride + l]`.
/// `work` holds 36 Lanes of scratch.
@inline(__always)
func winogradInputTiles8(
    _ bases: UnsafePointer<UnsafePointer<Float>>, _ strides: UnsafePointer<Int>,
    work t: UnsafeMutablePointer<Lanes>, _ out: UnsafeMutablePointer<Float>, pointStride ps: Int
) {
    // Gather row r of every lane's patch, transform the six columns (vertical pass).
    let p0 = bases[0], p1 = bases[1], p2 = bases[2], p3 = bases[3]
    let p4 = bases[4], p5 = bases[5], p6 = bases[6], p7 = bases[7]
    let s0 = strides[0], s1 = strides[1], s2 = strides[2], s3 = strides[3]
    let s4 = strides[4], s5 = strides[5], s6 = strides[6], s7 = strides[7]
    for j in 0..<6 {
        @inline(__always) func at(_ r: Int) -> Lanes {
            Lanes(p0[r &* s0 &+ j], p1[r &* s1 &+ j], p2[r &* s2 &+ j], p3[r &* s3 &+ j],
                  p4[r &* s4 &+ j], p5[r &* s5 &+ j], p6[r &* s6 &+ j], p7[r &* s7 &+ j])
        }
        let c = winogradInputLine(at(0), at(1), at(2), at(3), at(4), at(5))
        t[j] = c.0; t[6 &+ j] = c.1; t[12 &+ j] = c.2; t[18 &+ j] = c.3; t[24 &+ j] = c.4; t[30 &+ j] = c.5
    }
    // Horizontal pass, stored eight tiles wide.
    let raw = UnsafeMutableRawPointer(out)
    let byteStride = ps &* MemoryLayout<Float>.stride
    for i in 0..<6 {
        let r = t + i &* 6
        let v = winogradInputLine(r[0], r[1], r[2], r[3], r[4], r[5])
        let o = raw + (i &* 6) &* byteStride
        o.storeBytes(of: v.0, as: Lanes.self)
        (o + byteStride).storeBytes(of: v.1, as: Lanes.self)
        (o + 2 &* byteStride).storeBytes(of: v.2, as: Lanes.self)
        (o + 3 &* byteStride).storeBytes(of: v.3, as: Lanes.self)
        (o + 4 &* byteStride).storeBytes(of: v.4, as: Lanes.self)
        (o + 5 &* byteStride).storeBytes(of: v.5, as: Lanes.self)
    }
}

/// Aᵀ x along one line of six values.
@inline(__always)
func winogradOutputLine(_ m0: Lanes, _ m1: Lanes, _ m2: Lanes, _ m3: Lanes, _ m4: Lanes, _ m5: Lanes)
    -> (Lanes, Lanes, Lanes, Lanes) {
    let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
    return (m0 + a + c, b + 2 * d, a + 4 * c, b + 8 * d + m5)
}

/// Y = Aᵀ m A for eight tiles: reads point xi of lane l at `m[xi * pointStride + l]`;
/// writes Y[r, s] of all lanes to `y[r * 4 + s]`. `work` holds 24 Lanes.
@inline(__always)
func winogradOutputTiles8(
    _ m: UnsafePointer<Float>, pointStride ps: Int, work t: UnsafeMutablePointer<Lanes>, _ y: UnsafeMutablePointer<Lanes>
) {
    let raw = UnsafeRawPointer(m)
    let byteStride = ps &* MemoryLayout<Float>.stride
    @inline(__always) func at(_ xi: Int) -> Lanes { raw.loadUnaligned(fromByteOffset: xi &* byteStride, as: Lanes.self) }
    for j in 0..<6 {
        let c = winogradOutputLine(at(j), at(6 &+ j), at(12 &+ j), at(18 &+ j), at(24 &+ j), at(30 &+ j))
        t[j] = c.0; t[6 &+ j] = c.1; t[12 &+ j] = c.2; t[18 &+ j] = c.3
    }
    for i in 0..<4 {
        let r = t + i &* 6
        let v = winogradOutputLine(r[0], r[1], r[2], r[3], r[4], r[5])
        y[i &* 4] = v.0; y[i &* 4 &+ 1] = v.1; y[i &* 4 &+ 2] = v.2; y[i &* 4 &+ 3] = v.3
    }
}
