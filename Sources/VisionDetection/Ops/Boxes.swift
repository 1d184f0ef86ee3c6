// Boxes: the box list every detection op takes and returns.
//
// Layout: `coordinates` is a flat row-major [N, 4] Float32 array, row i =
// (x1, y1, x2, y2) of box i, in pixels of whatever image the caller means,
// exactly torchvision's [N, 4] box tensors. A value type: ops return new lists.

import VisionCore

public struct Boxes: Sendable, Equatable {
    /// [N, 4] row-major: x1, y1, x2, y2 per box.
    public var coordinates: [Float]

    /// Number of boxes N.
    public var count: Int { coordinates.count / 4 }
    public var isEmpty: Bool { coordinates.isEmpty }

    public init() { coordinates = [] }

    /// `coordinates.count` must be a multiple of 4.
    public init(coordinates: [Float]) {
        precondition(coordinates.count % 4 == 0, "Boxes: \(coordinates.count) coordinates is not a multiple of 4")
        self.coordinates = coordinates
    }

    /// From a [N, 4] tensor.
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 2 && tensor.shape[1] == 4, "Boxes: expected a [N, 4] tensor, got \(tensor.shape)")
        coordinates = tensor.values
    }

    /// The boxes as a [N, 4] tensor.
    public var tensor: Tensor { Tensor(shape: [count, 4], values: coordinates) }

    public subscript(index: Int) -> (x1: Float, y1: Float, x2: Float, y2: Float) {
        let b = index &* 4
        return (coordinates[b], coordinates[b + 1], coordinates[b + 2], coordinates[b + 3])
    }

    public mutating func append(x1: Float, y1: Float, x2: Float, y2: Float) {
        coordinates.append(contentsOf: [x1, y1, x2, y2])
    }

    public mutating func append(contentsOf other: Boxes) {
        coordinates.append(contentsOf: other.coordinates)
    }

    /// The boxes at `indices`, in that order (torch's `boxes[indices]`).
    public func selecting(_ indices: [Int]) -> Boxes {
        var out = [Float](repeating: 0, count: indices.count &* 4)
        coordinates.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "Boxes.selecting: index \(i) out of 0..<\(count)")
                    for c in 0..<4 { dst[k &* 4 &+ c] = src[i &* 4 &+ c] }
                }
            }
        }
        return Boxes(coordinates: out)
    }

    /// (x2 - x1) * (y2 - y1) per box in Float32 (torchvision's box_area).
    public var areas: [Float] {
        (0..<count).map { i in
            let b = self[i]
            return (b.x2 - b.x1) * (b.y2 - b.y1)
        }
    }

    /// torchvision `clip_boxes_to_image`: x clamped to [0, width], y to [0, height].
    /// NaN stays NaN, as with `Tensor.clamp`.
    public func clipped(toHeight height: Int, width: Int) -> Boxes {
        let w = Float(width), h = Float(height)
        var out = coordinates
        out.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < p.count {
                p[i] = clamp(p[i], 0, w)
                p[i &+ 1] = clamp(p[i &+ 1], 0, h)
                p[i &+ 2] = clamp(p[i &+ 2], 0, w)
                p[i &+ 3] = clamp(p[i &+ 3], 0, h)
                i &+= 4
            }
        }
        return Boxes(coordinates: out)
    }

    /// torchvision `remove_small_boxes`: ascending indices of the boxes whose
    /// width and height are both >= `minSize` (NaN sides fail the test).
    public func indicesOfBoxes(minSize: Float) -> [Int] {
        var keep: [Int] = []
        keep.reserveCapacity(count)
        for i in 0..<count {
            let b = self[i]
            if b.x2 - b.x1 >= minSize && b.y2 - b.y1 >= minSize { keep.append(i) }
        }
        return keep
    }

    /// `indicesOfBoxes(minSize:)` applied: the boxes that are at least `minSize` on both sides.
    public func removingSmallBoxes(minSize: Float) -> Boxes {
        selecting(indicesOfBoxes(minSize: minSize))
    }
}

/// torch's clamp(min, max): max(min(...)) with NaN propagated.
@inline(__always)
private func clamp(_ v: Float, _ low: Float, _ high: Float) -> Float {
    v < low ? low : (v > high ? high : v)
}
