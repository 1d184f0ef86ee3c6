import VisionCore

/// Hands out named parameters from a checkpoint while a model is built, and
/// records every key and shape the model asked for, so that one verify step
/// (`finish`) can name every missing key, unused key and shape mismatch with
/// its full key path, instead of failing on the first.
public final class WeightReader {
    private let tensors: [String: Tensor]
    private let source: String
    /// Keys the model may not use without that being an error (e.g. BN's num_batches_tracked).
    private let ignorable: (String) -> Bool
    private var used = Set<String>()
    private var missing: [String] = []
    private var mismatched: [String] = []

    /// `aliases` maps an alternative spelling found in older checkpoints to the
    /// canonical key the model asks for; both spellings are accepted.
    public init(tensors: [String: Tensor], source: String, aliases: [(old: String, canonical: String)] = [],
                ignorable: @escaping (String) -> Bool = { $0.hasSuffix("num_batches_tracked") }) {
        var canonical = tensors
        for (key, value) in tensors {
            for alias in aliases where key.contains(alias.old) {
                let renamed = key.replacingOccurrences(of: alias.old, with: alias.canonical)
                if canonical[renamed] == nil {
                    canonical[renamed] = value
                    canonical[key] = nil
                }
            }
        }
        self.tensors = canonical
        self.source = source
        self.ignorable = ignorable
    }

    public func contains(_ key: String) -> Bool { tensors[key] != nil }

    /// The shape stored under `key`, if any (used to infer class counts).
    public func shape(of key: String) -> [Int]? { tensors[key]?.shape }

    /// The tensor stored under `key`, which must have `shape`. A missing key or a
    /// wrong shape is recorded and a zero tensor of `shape` returned, so building
    /// continues and every problem is reported together by `finish()`.
    public func tensor(_ key: String, shape: [Int]) -> Tensor {
        guard let t = tensors[key] else {
            missing.append("\(key) \(shape)")
            return Tensor(shape: shape)
        }
        used.insert(key)
        if t.shape != shape {
            // A checkpoint may store [out, in] as [out, in, 1, 1] and so on: same elements, same order.
            if Tensor.elementCount(t.shape) == Tensor.elementCount(shape),
               t.shape.filter({ $0 != 1 }) == shape.filter({ $0 != 1 }) {
                return t.reshaped(shape)
            }
            mismatched.append("\(key): checkpoint has \(t.shape), model expects \(shape)")
            return Tensor(shape: shape)
        }
        return t
    }

    /// Throws a `DetectionError.weightMismatch` naming every problem found.
    public func finish() throws {
        let unexpected = tensors.keys.filter { !used.contains($0) && !ignorable($0) }.sorted()
        guard !missing.isEmpty || !mismatched.isEmpty || !unexpected.isEmpty else { return }
        var lines: [String] = []
        func section(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append("\(title) (\(items.count)):")
            let shown = items.prefix(40)
            lines += shown.map { "  \($0)" }
            if items.count > shown.count { lines.append("  ... and \(items.count - shown.count) more") }
        }
        section("missing keys", missing)
        section("shape mismatches", mismatched)
        section("unexpected keys", unexpected)
        throw DetectionError.weightMismatch(file: source, report: lines.joined(separator: "\n"))
    }
}
