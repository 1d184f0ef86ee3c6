// Name-checked weight binding (mlx-swift style), independent of any model:
// the model lists the parameters it expects (full key path + shape), supplies
// an alias table for alternative spellings, and gets back the tensors under
// their canonical keys plus a report of missing, unexpected and mis-shaped keys.

import VisionCore

/// One parameter a model expects. `shape` nil accepts any shape; a -1 in
/// `shape` accepts any size along that axis ("inferred" sizes).
public struct ExpectedParameter: Sendable, Hashable {
    public var key: String
    public var shape: [Int]?

    public init(_ key: String, shape: [Int]?) {
        self.key = key
        self.shape = shape
    }

    public func accepts(_ actual: [Int]) -> Bool {
        guard let shape else { return true }
        return shape.count == actual.count && zip(shape, actual).allSatisfy { $0 == -1 || $0 == $1 }
    }
}

/// Alternative spellings of keys, supplied by the model code.
/// `exact` maps a whole file key to its canonical key; `prefixes` rewrite a
/// leading part (e.g. "module." -> "" for DataParallel checkpoints). Exact
/// aliases are tried first, then prefix rules in order.
public struct KeyAliasTable: Sendable {
    public var exact: [String: String]
    public var prefixes: [(from: String, to: String)]

    public init(exact: [String: String] = [:], prefixes: [(from: String, to: String)] = []) {
        self.exact = exact
        self.prefixes = prefixes
    }

    /// The canonical spelling of `key` if a rule rewrites it.
    public func canonical(for key: String) -> String? {
        if let target = exact[key] { return target }
        for rule in prefixes where key.hasPrefix(rule.from) {
            let rewritten = rule.to + key.dropFirst(rule.from.count)
            return exact[rewritten] ?? rewritten
        }
        return nil
    }
}

/// Keys a caller does not need and that are not errors when present (e.g. BN's
/// `num_batches_tracked`).
public struct IgnoredKeys: Sendable {
    public var suffixes: [String]
    public var exact: Set<String>

    public init(suffixes: [String] = [], exact: Set<String> = []) {
        self.suffixes = suffixes
        self.exact = exact
    }

    public static let batchNormCounters = IgnoredKeys(suffixes: [".num_batches_tracked"])

    public func contains(_ key: String) -> Bool {
        exact.contains(key) || suffixes.contains { key.hasSuffix($0) }
    }
}

public struct ShapeMismatch: Sendable, Hashable, CustomStringConvertible {
    public var key: String
    /// The key as spelled in the file (differs from `key` when an alias matched).
    public var fileKey: String
    public var expected: [Int]
    public var found: [Int]

    public var description: String {
        let via = fileKey == key ? "" : " (file key \(fileKey))"
        let want = expected.map { $0 == -1 ? "*" : String($0) }.joined(separator: ", ")
        return "\(key)\(via): expected [\(want)], found \(found)"
    }
}

public struct WeightVerificationReport: Sendable, CustomStringConvertible {
    /// Expected keys with no tensor in the file (canonical spelling).
    public var missing: [String] = []
    /// File keys matching no expected parameter, alias or ignore rule (file spelling).
    public var unexpected: [String] = []
    public var shapeMismatches: [ShapeMismatch] = []
    /// (file key, canonical key) for tensors found through an alias.
    public var aliased: [(fileKey: String, key: String)] = []
    /// File keys skipped by the ignore rules.
    public var ignored: [String] = []

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty }

    /// Lists at most `limit` entries per category and says how many were left out.
    public func summary(limit: Int = 20) -> String {
        func section(_ title: String, _ items: [String]) -> String? {
            guard !items.isEmpty else { return nil }
            var lines = ["\(items.count) \(title):"] + items.prefix(limit).map { "  " + $0 }
            if items.count > limit { lines.append("  ... and \(items.count - limit) more") }
            return lines.joined(separator: "\n")
        }
        let parts = [
            section("missing keys", missing),
            section("unexpected keys", unexpected),
            section("shape mismatches", shapeMismatches.map(\.description)),
        ].compactMap { $0 }
        return parts.isEmpty ? "all weights matched" : parts.joined(separator: "\n")
    }

    public var description: String { summary() }
}

public struct WeightVerificationError: Error, CustomStringConvertible {
    public var source: String
    public var report: WeightVerificationReport

    public init(source: String, report: WeightVerificationReport) {
        self.source = source
        self.report = report
    }

    public var description: String { "\(source): weights do not match the model\n" + report.summary() }
}

/// Matches `stateDict` against `expected`. Returns the tensors under their
/// canonical keys (only those whose shape is accepted) and the report.
public func verifyWeights(
    _ stateDict: StateDict, expected: [ExpectedParameter], aliases: KeyAliasTable = KeyAliasTable(),
    ignoring ignored: IgnoredKeys = IgnoredKeys()
) -> (tensors: [String: Tensor], report: WeightVerificationReport) {
    var report = WeightVerificationReport()
    var expectedByKey: [String: ExpectedParameter] = [:]
    for parameter in expected { expectedByKey[parameter.key] = parameter }
    // canonical key -> file key that supplies it; a direct spelling beats an alias.
    var sources: [String: String] = [:]
    for fileKey in stateDict.keys where expectedByKey[fileKey] != nil { sources[fileKey] = fileKey }
    for fileKey in stateDict.keys where expectedByKey[fileKey] == nil {
        if let canonical = aliases.canonical(for: fileKey), expectedByKey[canonical] != nil, sources[canonical] == nil {
            sources[canonical] = fileKey
            report.aliased.append((fileKey: fileKey, key: canonical))
        } else if ignored.contains(fileKey) || aliases.canonical(for: fileKey).map(ignored.contains) == true {
            report.ignored.append(fileKey)
        } else {
            report.unexpected.append(fileKey)
        }
    }
    var tensors: [String: Tensor] = [:]
    for parameter in expected {
        guard let fileKey = sources[parameter.key], let tensor = stateDict[fileKey] else {
            report.missing.append(parameter.key)
            continue
        }
        if parameter.accepts(tensor.shape) {
            tensors[parameter.key] = tensor
        } else {
            report.shapeMismatches.append(
                ShapeMismatch(key: parameter.key, fileKey: fileKey, expected: parameter.shape ?? [], found: tensor.shape))
        }
    }
    return (tensors, report)
}

/// Like `verifyWeights`, but throws a `WeightVerificationError` naming `source`
/// unless every expected key was found with an accepted shape and nothing unexpected remains.
public func loadVerifiedWeights(
    _ stateDict: StateDict, expected: [ExpectedParameter], aliases: KeyAliasTable = KeyAliasTable(),
    ignoring ignored: IgnoredKeys = IgnoredKeys(), source: String
) throws -> [String: Tensor] {
    let (tensors, report) = verifyWeights(stateDict, expected: expected, aliases: aliases, ignoring: ignored)
    guard report.isClean else { throw WeightVerificationError(source: source, report: report) }
    return tensors
}
