// BoxCoder: torchvision's models/detection/_utils.BoxCoder.
//
// Deltas are (dx, dy, dw, dh) per box, divided by the weights (wx, wy, ww, wh):
// RPN uses (1, 1, 1, 1), the RoI heads (10, 10, 5, 5). Every step is done in
// Float32 in torchvision's order, so results match bit for bit except for exp
// and log, where torch's vectorised versions may differ from libm by 1 ulp.

import Foundation
import VisionCore

public struct BoxCoder: Sendable {
    public var wx: Float, wy: Float, ww: Float, wh: Float
    /// dw and dh are clamped from above to this before exp (log(1000/16) by default).
    public var scaleClamp: Float

    public static let defaultScaleClamp = Float(Foundation.log(1000.0 / 16.0))

    public init(weights: (Float, Float, Float, Float), scaleClamp: Float = BoxCoder.defaultScaleClamp) {
        (wx, wy, ww, wh) = weights
        self.scaleClamp = scaleClamp
    }

    /// Region proposal network coder, weights (1, 1, 1, 1).
    public static let rpn = BoxCoder(weights: (1, 1, 1, 1))
    /// RoI heads coder, weights (10, 10, 5, 5).
    public static let roiHeads = BoxCoder(weights: (10, 10, 5, 5))

    /// Applies deltas to reference boxes (torchvision decode_single).
    /// - deltas: [N, 4K] row-major, K boxes per reference box (K = classes in the RoI heads,
    ///   1 in the RPN), group k = (dx, dy, dw, dh) for class k.
    /// - boxes: N reference boxes.
    /// - Returns N*K boxes, reference-major then class (torch's [N, K, 4] flattened).
    public func decode(deltas: UnsafeBufferPointer<Float>, boxes: Boxes) -> Boxes {
        let n = boxes.count
        precondition(n == 0 ? deltas.isEmpty : deltas.count % (4 * n) == 0,
                     "BoxCoder.decode: \(deltas.count) deltas for \(n) boxes")
        let perBox = n == 0 ? 0 : deltas.count / n
        var out = [Float](repeating: 0, count: deltas.count)
        let (wx, wy, ww, wh, limit) = (self.wx, self.wy, self.ww, self.wh, scaleClamp)
        boxes.coordinates.withUnsafeBufferPointer { ref in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let b = i &* 4
                    let width = ref[b &+ 2] - ref[b]
                    let height = ref[b &+ 3] - ref[b &+ 1]
                    let ctrX = ref[b] + 0.5 * width
                    let ctrY = ref[b &+ 1] + 0.5 * height
                    var o = i &* perBox
                    let end = o &+ perBox
                    while o < end {
                        let dx = deltas[o] / wx
                        let dy = deltas[o &+ 1] / wy
                        var dw = deltas[o &+ 2] / ww
                        var dh = deltas[o &+ 3] / wh
                        // torch.clamp(max:) keeps NaN.
                        if dw > limit { dw = limit }
                        if dh > limit { dh = limit }
                        let predCtrX = dx * width + ctrX
                        let predCtrY = dy * height + ctrY
                        let predW = Foundation.exp(dw) * width
                        let predH = Foundation.exp(dh) * height
                        let halfW = 0.5 * predW
                        let halfH = 0.5 * predH
                        dst[o] = predCtrX - halfW
                        dst[o &+ 1] = predCtrY - halfH
                        dst[o &+ 2] = predCtrX + halfW
                        dst[o &+ 3] = predCtrY + halfH
                        o &+= 4
                    }
                }
            }
        }
        return Boxes(coordinates: out)
    }

    public func decode(deltas: [Float], boxes: Boxes) -> Boxes {
        deltas.withUnsafeBufferPointer { decode(deltas: $0, boxes: boxes) }
    }

    /// `deltas` is a [N, 4K] tensor (any shape with that element count).
    public func decode(deltas: Tensor, boxes: Boxes) -> Boxes {
        deltas.withUnsafeBufferPointer { decode(deltas: $0, boxes: boxes) }
    }

    /// The deltas that take each proposal to its matched reference box
    /// (torchvision encode_boxes; reference = ground truth): [N, 4] row-major (dx, dy, dw, dh).
    public func encode(referenceBoxes: Boxes, proposals: Boxes) -> [Float] {
        let n = proposals.count
        precondition(referenceBoxes.count == n,
                     "BoxCoder.encode: \(referenceBoxes.count) reference boxes for \(n) proposals")
        var out = [Float](repeating: 0, count: n * 4)
        let (wx, wy, ww, wh) = (self.wx, self.wy, self.ww, self.wh)
        referenceBoxes.coordinates.withUnsafeBufferPointer { gt in
            proposals.coordinates.withUnsafeBufferPointer { ex in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<n {
                        let b = i &* 4
                        let exW = ex[b &+ 2] - ex[b]
                        let exH = ex[b &+ 3] - ex[b &+ 1]
                        let exCtrX = ex[b] + 0.5 * exW
                        let exCtrY = ex[b &+ 1] + 0.5 * exH
                        let gtW = gt[b &+ 2] - gt[b]
                        let gtH = gt[b &+ 3] - gt[b &+ 1]
                        let gtCtrX = gt[b] + 0.5 * gtW
                        let gtCtrY = gt[b &+ 1] + 0.5 * gtH
                        dst[b] = wx * (gtCtrX - exCtrX) / exW
                        dst[b &+ 1] = wy * (gtCtrY - exCtrY) / exH
                        dst[b &+ 2] = ww * Foundation.log(gtW / exW)
                        dst[b &+ 3] = wh * Foundation.log(gtH / exH)
                    }
                }
            }
        }
        return out
    }
}
