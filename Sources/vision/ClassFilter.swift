// -k/--only-class and -K/--ignore-class: class names (case-insensitive) or ids,
// resolved against the loaded model's labels; unknown ones are argument errors.

import ArgumentParser

enum ClassFilter {
    /// A predicate over class ids; nil when neither option was given.
    static func make(only: [String], ignore: [String], labels: [String]) throws -> ((Int) -> Bool)? {
        if !only.isEmpty {
            let ids = try resolve(only, option: "--only-class", labels: labels)
            return { ids.contains($0) }
        }
        if !ignore.isEmpty {
            let ids = try resolve(ignore, option: "--ignore-class", labels: labels)
            return { !ids.contains($0) }
        }
        return nil
    }

    /// Names that can be asked for: every label but the background and COCO's "N/A" gaps.
    static func validNames(_ labels: [String]) -> [String] {
        labels.enumerated().filter { $0.offset > 0 && $0.element != "N/A" }.map(\.element)
    }

    static func resolve(_ values: [String], option: String, labels: [String]) throws -> Set<Int> {
        var ids = Set<Int>()
        for value in values {
            if let id = Int(value), id >= 1, id < labels.count {
                ids.insert(id)
                continue
            }
            let matches = labels.indices.filter { $0 > 0 && labels[$0].lowercased() == value.lowercased() }
            guard !matches.isEmpty else {
                throw ValidationError("unknown class '\(value)' for \(option); valid names (or ids 1-\(labels.count - 1)): "
                    + validNames(labels).joined(separator: ", "))
            }
            ids.formUnion(matches)
        }
        return ids
    }
}
