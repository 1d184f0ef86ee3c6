// torchvision's BalancedPositiveNegativeSampler with an injectable source of random
// permutations (torch draws torch.randperm(#positives), then torch.randperm(#negatives),
// per image in order; a RecordedPermutations source replays those for parity tests).

/// Produces random permutations of 0..<n.
public protocol PermutationSource {
    mutating func permutation(_ n: Int) -> [Int]
}

/// Fisher-Yates shuffles driven by a seeded SplitMix64 generator (reproducible runs):
/// the training RNG, which is a PermutationSource.
public typealias SeededPermutations = TrainingRNG

/// Replays given permutations in order; when they run out (or a length does not fit),
/// falls back to the identity permutation.
public struct RecordedPermutations: PermutationSource, Sendable {
    public private(set) var remaining: [[Int]]

    public init(_ permutations: [[Int]]) { remaining = permutations }

    public mutating func permutation(_ n: Int) -> [Int] {
        guard !remaining.isEmpty else { return Array(0..<n) }
        let p = remaining.removeFirst()
        return p.count == n ? p : Array(0..<n)
    }
}

/// The positive and negative indices sampled from one image, ascending.
public struct SampledIndices: Sendable, Equatable {
    public var positive: [Int]
    public var negative: [Int]

    /// Positive and negative together, ascending (torch.where(pos | neg)).
    public var all: [Int] { (positive + negative).sorted() }
}

public struct BalancedPositiveNegativeSampler: Sendable {
    public var batchSizePerImage: Int
    public var positiveFraction: Float

    public init(batchSizePerImage: Int, positiveFraction: Float) {
        self.batchSizePerImage = batchSizePerImage
        self.positiveFraction = positiveFraction
    }

    /// labels per image: >= 1 positive, 0 negative, < 0 ignored.
    public func sample<S: PermutationSource>(_ labels: [[Int]], permutations: inout S) -> [SampledIndices] {
        labels.map { perImage in
            var positive: [Int] = [], negative: [Int] = []
            for (i, l) in perImage.enumerated() {
                if l >= 1 { positive.append(i) } else if l == 0 { negative.append(i) }
            }
            // int(batch * fraction) in Python: Double product, truncated.
            let wantPositive = Int(Double(batchSizePerImage) * Double(positiveFraction))
            let numPositive = min(positive.count, wantPositive)
            let numNegative = min(negative.count, batchSizePerImage - numPositive)
            let p1 = permutations.permutation(positive.count).prefix(numPositive)
            let p2 = permutations.permutation(negative.count).prefix(numNegative)
            return SampledIndices(positive: p1.map { positive[$0] }.sorted(), negative: p2.map { negative[$0] }.sorted())
        }
    }
}
