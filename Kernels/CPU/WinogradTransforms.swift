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

/// U = G g Gᵀ for every (out, in) filter, computed in Double.
/// - weight: [Cout, Cin, 3, 3].
/// - output: [36, Cout, Cin] (point-major, so each point's slice is a GEMM A matrix).
public func winogradTransformWeights(
    weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, output: UnsafeMutablePointer<Float>
) {
    let g: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                         [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
    let pointStride = outChannels &* inChannels
    var left = [Double](repeating: 0, count: 18)  // G g: [6, 3]
    for o in 0..<outChannels {
        for i in 0..<inChannels {
            let filter = weight + (o &* inChannels &+ i) &* 9
            for r in 0..<6 {
                for c in 0..<3 {
                    left[r * 3 + c] = g[r][0] * Double(filter[c]) + g[r][1] * Double(filter[3 + c])
                        + g[r][2] * Double(filter[6 + c])
                }
            }
            for r in 0..<6 {
                for c in 0..<6 {
                    let u = left[r * 3] * g[c][0] + left[r * 3 + 1] * g[c][1] + left[r * 3 + 2] * g[c][2]
                    output[(r &* 6 &+ c) &* pointStride &+ o &* inChannels &+ i] = Float(u)
                }
            }
        }
    }
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
