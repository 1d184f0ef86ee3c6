import VisionCheckpoint
import VisionCore

/// Hands out named parameters from a checkpoint while a model is built, and
/// records every key and shape the model asked for. `finish()` then runs
/// VisionCheckpoint's `verifyWeights` over that list, so one error names every
/// missing key, unused key and shape mismatch with its full key path, instead
/// of failing on the first. The one loader of every executor: inference asks for
/// every tensor (`tensor`), training may initialise what a checkpoint lacks
/// (`loadedTensor`, then `finish(allowingAbsent:)`).
public final class WeightReader {
    private let stateDict: StateDict
    private let source: String
    private let aliases: KeyAliasTable
    /// Canonical key -> the file key that holds it (old spellings resolved).
    private var fileKeys: [String: String] = [:]
    private var expected: [ExpectedParameter] = []

    /// `aliases` maps old spellings found in earlier checkpoints to the canonical
    /// keys the model asks for; both spellings are accepted.
    public init(stateDict: StateDict, source: String, aliases: KeyAliasTable = KeyAliasTable()) {
        self.stateDict = stateDict
        self.source = source
        self.aliases = aliases
        for key in stateDict.keys { fileKeys[key] = key }
        for key in stateDict.keys {
            if let canonical = aliases.canonical(for: key), fileKeys[canonical] == nil { fileKeys[canonical] = key }
        }
    }

    /// The shape stored under `key` (or its old spelling), if any: used to infer class counts.
    public func shape(of key: String) -> [Int]? { fileKeys[key].flatMap { stateDict[$0]?.shape } }

    /// The tensor stored under `key`, which must have `shape`. A missing key or a
    /// wrong shape is left for `finish()` to report; building continues with zeros.
    public func tensor(_ key: String, shape: [Int]) -> Tensor {
        expected.append(ExpectedParameter(key, shape: shape))
        guard let t = fileKeys[key].flatMap({ stateDict[$0] }), t.shape == shape else { return Tensor(shape: shape) }
        return t
    }

    /// The tensor stored under `key` if it is there with exactly `shape`, else nil (the
    /// caller initialises it; `finish` reports the absence unless it is allowed).
    public func loadedTensor(_ key: String, shape: [Int]) -> Tensor? {
        expected.append(ExpectedParameter(key, shape: shape))
        guard let t = fileKeys[key].flatMap({ stateDict[$0] }), t.shape == shape else { return nil }
        return t
    }

    /// Throws a `WeightVerificationError` naming every problem found: missing keys, keys
    /// the model does not use, and tensors of another shape (even with the same element
    /// count). Missing or mis-shaped keys for which `allowingAbsent` holds are not errors
    /// (a training run re-initialises them, e.g. a predictor of another class count).
    public func finish(allowingAbsent: (String) -> Bool = { _ in false }) throws {
        var (_, report) = verifyWeights(stateDict, expected: expected, aliases: aliases, ignoring: .batchNormCounters)
        report.missing.removeAll(where: allowingAbsent)
        report.shapeMismatches.removeAll { allowingAbsent($0.key) }
        guard report.isClean else { throw WeightVerificationError(source: source, report: report) }
    }
}
