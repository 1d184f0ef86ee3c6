// --shard I/N: the images whose index in the sorted input list is I-1 modulo N.
// Shards 1...N of the same inputs cover every image exactly once.

import ArgumentParser

struct ShardSpec: ExpressibleByArgument, Equatable {
    /// 1-based shard index.
    let index: Int
    let count: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        index = i
        count = n
    }

    func contains(position: Int) -> Bool { position % count == index - 1 }
}
