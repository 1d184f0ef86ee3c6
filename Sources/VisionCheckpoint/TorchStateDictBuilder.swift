// Turns an unpickled torch object into a `StateDict`: finds the dict of
// tensors (at the top, or under "state_dict"/"model" in a training
// checkpoint), reads `_metadata` versions, and converts every tensor.

import VisionCore

struct TorchStateDictBuilder {
    let fileName: String
    let arena: PickleArena
    /// The bytes of a storage, by key; each format locates storages its own way.
    let storageBytes: (StorageReference) throws -> RawStorage

    func build(_ root: PickleValue) throws -> StateDict {
        guard case let .dict(rootIndex) = root else {
            throw CheckpointError.notAStateDict(file: fileName, message: "the pickle holds a \(root.kindName), not a dict")
        }
        let dictIndex = try findTensorDict(rootIndex)
        let dict = arena.dicts[dictIndex]
        var result = StateDict()
        for item in dict.items {
            guard case let .string(key) = item.key else { continue }
            // Non-tensor entries (ints, strings, extra state) are not weights.
            guard case let .tensor(t) = item.value else { continue }
            let reference = arena.tensors[t]
            let storage = try storageBytes(reference.storage)
            let tensor = try TensorConversion.makeTensor(
                from: storage, offset: reference.offset, shape: reference.shape, strides: reference.strides,
                fileName: fileName, key: key)
            result.insert(tensor, forKey: key, sourceDType: storage.dtype)
        }
        result.moduleVersions = moduleVersions(dict)
        return result
    }

    /// The dict whose values are tensors: the root itself, or a well-known entry of it.
    private func findTensorDict(_ rootIndex: Int) throws -> Int {
        func holdsTensors(_ index: Int) -> Bool {
            arena.dicts[index].items.contains { if case .tensor = $0.value { return true } else { return false } }
        }
        if holdsTensors(rootIndex) { return rootIndex }
        for name in ["state_dict", "model_state_dict", "model"] {
            if case let .dict(inner)? = arena.lookup(name, in: arena.dicts[rootIndex].items), holdsTensors(inner) {
                return inner
            }
        }
        if arena.dicts[rootIndex].items.isEmpty { return rootIndex }
        throw CheckpointError.notAStateDict(
            file: fileName, message: "no tensors at the top level nor under 'state_dict' or 'model'")
    }

    /// `_metadata` = {prefix: {"version": n, ...}}; absent or odd entries are skipped.
    private func moduleVersions(_ dict: PickleDict) -> [String: Int] {
        guard case let .dict(metaIndex)? = arena.lookup("_metadata", in: dict.attributes) else { return [:] }
        var versions: [String: Int] = [:]
        for item in arena.dicts[metaIndex].items {
            guard case let .string(prefix) = item.key, case let .dict(inner) = item.value,
                  case let .int(version)? = arena.lookup("version", in: arena.dicts[inner].items)
            else { continue }
            versions[prefix] = version
        }
        return versions
    }
}

/// Reads a persistent id `('storage', cls, key, location, numel[, view_metadata])`.
func storageReference(from id: PickleValue, arena: PickleArena, fileName: String) throws -> StorageReference {
    func fail(_ message: String) -> CheckpointError { .badPickle(file: fileName, message: message) }
    guard let items = arena.sequence(id), items.count >= 5, case .string("storage") = items[0] else {
        throw fail("persistent id is not ('storage', class, key, location, numel)")
    }
    guard case let .global(global) = items[1] else { throw fail("persistent id names no storage class") }
    guard case let .storageClass(dtype) = global else {
        throw fail("persistent id names \(global), not a storage class")
    }
    let key: String
    switch items[2] {
    case let .string(s): key = s
    case let .int(i): key = String(i)
    default: throw fail("storage key is a \(items[2].kindName)")
    }
    guard case let .int(count) = items[4], count >= 0 else { throw fail("storage size is not a count") }
    // Legacy view storages: view_metadata = (view_key, offset, view_size) of the root storage `key`.
    if items.count >= 6, let view = arena.sequence(items[5]), view.count == 3 {
        guard case let .string(viewKey) = view[0], case let .int(viewOffset) = view[1], case let .int(viewSize) = view[2],
              viewOffset >= 0, viewSize >= 0
        else { throw fail("bad storage view metadata") }
        return StorageReference(dtype: dtype, key: viewKey, count: viewSize, rootKey: key, rootOffset: viewOffset)
    }
    return StorageReference(dtype: dtype, key: key, count: count, rootKey: key, rootOffset: 0)
}
