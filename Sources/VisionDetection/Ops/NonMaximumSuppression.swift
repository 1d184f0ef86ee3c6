// Non-maximum suppression, as torchvision's CPU kernel (csrc/ops/cpu/nms_kernel.cpp)
// and ops.batched_nms.
//
// nms: areas = (x2-x1)*(y2-y1) in Float32; boxes visited by score descending;
// a kept box suppresses every later box j with IoU > threshold, where
// IoU = inter / (area_i + area_j - inter) is computed in Float32 and compared
// in Double (NaN never suppresses). Score ties are broken by lower index first
// (torch's sort is not stable, so ties may come out differently there); NaN
// scores sort first, as in torch's descending sort.

/// Indices of the boxes kept, by score descending. `scores.count` must equal `boxes.count`.
public func nms(boxes: Boxes, scores: [Float], iouThreshold: Double) -> [Int] {
    precondition(scores.count == boxes.count, "nms: \(scores.count) scores for \(boxes.count) boxes")
    return boxes.coordinates.withUnsafeBufferPointer { b in
        scores.withUnsafeBufferPointer { s in
            NMSKernel.run(boxes: b.baseAddress, scores: s.baseAddress, subset: nil, count: boxes.count,
                          classOffsets: nil, iouThreshold: iouThreshold)
        }
    }
}

/// NMS run independently per class `classes[i]` (torchvision batched_nms): indices kept,
/// by score descending. Two code paths, chosen as torchvision does on the CPU:
/// at most 4000 coordinates -> every box shifted by class * (max coordinate + 1) and one
/// NMS; more -> one NMS per class, the kept indices merged and sorted by score.
public func batchedNMS(boxes: Boxes, scores: [Float], classes: [Int], iouThreshold: Double) -> [Int] {
    let n = boxes.count
    precondition(scores.count == n && classes.count == n,
                 "batchedNMS: \(n) boxes, \(scores.count) scores, \(classes.count) classes")
    if n == 0 { return [] }
    if n * 4 > 4000 {
        return batchedNMSPerClass(boxes: boxes, scores: scores, classes: classes, iouThreshold: iouThreshold)
    }
    // Coordinate trick. torch.max propagates NaN; offsets are Float(class) * (max + 1) in Float32.
    var maxCoordinate = -Float.infinity
    for v in boxes.coordinates {
        if v.isNaN { maxCoordinate = v; break }
        if v > maxCoordinate { maxCoordinate = v }
    }
    let step = maxCoordinate + 1
    let offsets = classes.map { Float($0) * step }
    return boxes.coordinates.withUnsafeBufferPointer { b in
        scores.withUnsafeBufferPointer { s in
            offsets.withUnsafeBufferPointer { o in
                NMSKernel.run(boxes: b.baseAddress, scores: s.baseAddress, subset: nil, count: n,
                              classOffsets: o.baseAddress, iouThreshold: iouThreshold)
            }
        }
    }
}

/// torchvision _batched_nms_vanilla: NMS per class (classes ascending), then all kept
/// indices (ascending) sorted by score descending.
func batchedNMSPerClass(boxes: Boxes, scores: [Float], classes: [Int], iouThreshold: Double) -> [Int] {
    var members: [Int: [Int]] = [:]
    for (i, c) in classes.enumerated() { members[c, default: []].append(i) }
    var kept = [Bool](repeating: false, count: boxes.count)
    boxes.coordinates.withUnsafeBufferPointer { b in
        scores.withUnsafeBufferPointer { s in
            for c in members.keys.sorted() {
                let subset = members[c]!
                let keep = subset.withUnsafeBufferPointer { sub in
                    NMSKernel.run(boxes: b.baseAddress, scores: s.baseAddress, subset: sub.baseAddress,
                                  count: sub.count, classOffsets: nil, iouThreshold: iouThreshold)
                }
                for k in keep { kept[subset[k]] = true }
            }
        }
    }
    let keepIndices = kept.indices.filter { kept[$0] }
    return scores.withUnsafeBufferPointer { s in
        NMSKernel.sortedByScoreDescending(keepIndices, scores: s.baseAddress!)
    }
}

enum NMSKernel {
    /// Sorts `indices` by score descending; NaN first, ties by lower index.
    static func sortedByScoreDescending(_ indices: [Int], scores: UnsafePointer<Float>) -> [Int] {
        indices.sorted { a, b in
            let sa = scores[a], sb = scores[b]
            if sa > sb { return true }
            if sa < sb { return false }
            if sa.isNaN != sb.isNaN { return sa.isNaN }
            return a < b
        }
    }

    /// Greedy NMS over `count` boxes. Box k is original box `subset[k]` (or k when `subset` is nil);
    /// `classOffsets[k]`, when given, is added to all four coordinates of box k first.
    /// Returns positions k (0..<count) of the kept boxes, by score descending.
    static func run(boxes: UnsafePointer<Float>?, scores: UnsafePointer<Float>?, subset: UnsafePointer<Int>?,
                    count n: Int, classOffsets: UnsafePointer<Float>?, iouThreshold: Double) -> [Int] {
        guard n > 0, let boxes, let scores else { return [] }
        // Local scores of the boxes in play, to sort positions 0..<n.
        let local = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { local.deallocate() }
        for k in 0..<n { local[k] = scores[subset?[k] ?? k] }
        let order = sortedByScoreDescending(Array(0..<n), scores: UnsafePointer(local))

        // Structure-of-arrays copies in visiting order, so the inner loop streams memory.
        let x1 = UnsafeMutablePointer<Float>.allocate(capacity: n * 5)
        defer { x1.deallocate() }
        let y1 = x1 + n, x2 = x1 + 2 * n, y2 = x1 + 3 * n, area = x1 + 4 * n
        for r in 0..<n {
            let k = order[r]
            let src = boxes + (subset?[k] ?? k) &* 4
            let off = classOffsets?[k] ?? 0
            // An offset of 0 is added too: torch adds it to every box (x + 0 == x, NaN stays NaN).
            x1[r] = src[0] + off; y1[r] = src[1] + off
            x2[r] = src[2] + off; y2[r] = src[3] + off
            area[r] = (x2[r] - x1[r]) * (y2[r] - y1[r])
        }

        // Double(iou) > threshold  <=>  iou > (largest Float <= threshold), for every Float iou
        // (NaN included), so the inner loop can stay in Float.
        var floatThreshold = Float(iouThreshold)
        if Double(floatThreshold) > iouThreshold { floatThreshold = floatThreshold.nextDown }

        let suppressed = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
        defer { suppressed.deallocate() }
        suppressed.initialize(repeating: 0, count: n)
        var keep: [Int] = []
        for i in 0..<n where suppressed[i] == 0 {
            keep.append(order[i])
            let ix1 = x1[i], iy1 = y1[i], ix2 = x2[i], iy2 = y2[i], iarea = area[i]
            // Branch-free so it vectorises: the IoU of an already suppressed box is computed
            // too, which changes nothing (torchvision skips it).
            var j = i &+ 1
            while j < n {
                let xx1 = cppMax(ix1, x1[j]), yy1 = cppMax(iy1, y1[j])
                let xx2 = cppMin(ix2, x2[j]), yy2 = cppMin(iy2, y2[j])
                let w = cppMax(0, xx2 - xx1), h = cppMax(0, yy2 - yy1)
                let inter = w * h
                let iou = inter / (iarea + area[j] - inter)
                suppressed[j] |= iou > floatThreshold ? 1 : 0
                j &+= 1
            }
        }
        return keep
    }

    /// std::max(a, b): b when a < b, else a (NaN handling as in C++).
    @inline(__always) static func cppMax(_ a: Float, _ b: Float) -> Float { a < b ? b : a }
    /// std::min(a, b): b when b < a, else a.
    @inline(__always) static func cppMin(_ a: Float, _ b: Float) -> Float { b < a ? b : a }
}
