// Top-k of a 1-D buffer: the k largest values sorted descending, ties broken by
// the lower index first; NaN counts as larger than any number (as torch.topk).
// A size-k min-heap keeps the current best k in O(n log k).

/// True when (va, ia) ranks before (vb, ib).
@inline(__always)
func ranksBefore(_ va: Float, _ ia: Int, _ vb: Float, _ ib: Int) -> Bool {
    if va.isNaN != vb.isNaN { return va.isNaN }
    if va != vb && !va.isNaN { return va > vb }
    return ia < ib
}

public func topK(_ x: UnsafePointer<Float>, count n: Int, k requested: Int) -> (values: [Float], indices: [Int]) {
    let k = min(max(requested, 0), n)
    if k == 0 { return ([], []) }
    // heap[0] is the worst of the kept elements; a new element i (larger index
    // than all kept) replaces it only when it ranks strictly before it.
    var heap = [Int](0..<k)
    heap.withUnsafeMutableBufferPointer { h in
        func worse(_ a: Int, _ b: Int) -> Bool { ranksBefore(x[b], b, x[a], a) }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 &* i &+ 1, r = l &+ 1
                var w = i
                if l < k && worse(h[l], h[w]) { w = l }
                if r < k && worse(h[r], h[w]) { w = r }
                if w == i { return }
                h.swapAt(i, w)
                i = w
            }
        }
        var i = k / 2
        while i > 0 { i -= 1; siftDown(i) }
        for j in k..<n where ranksBefore(x[j], j, x[h[0]], h[0]) {
            h[0] = j
            siftDown(0)
        }
    }
    heap.sort { ranksBefore(x[$0], $0, x[$1], $1) }
    return (heap.map { x[$0] }, heap)
}

/// Reference: a full stable sort.
public func topKReference(_ x: UnsafePointer<Float>, count n: Int, k: Int) -> (values: [Float], indices: [Int]) {
    let order = (0..<n).sorted { ranksBefore(x[$0], $0, x[$1], $1) }
    let top = Array(order.prefix(max(0, k)))
    return (top.map { x[$0] }, top)
}
