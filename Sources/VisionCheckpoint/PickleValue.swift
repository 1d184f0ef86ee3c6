// The values a state-dict pickle can build. Containers live in an arena and
// are referred to by index, so no value owns another: hostile nesting or
// cycles can never cause deep recursion (not even in deinit).

/// Element types of torch storages, named by their storage class.
enum StorageDType: String, CaseIterable {
    case float32 = "FloatStorage", float16 = "HalfStorage", bfloat16 = "BFloat16Storage", float64 = "DoubleStorage"
    case int64 = "LongStorage", int32 = "IntStorage", int16 = "ShortStorage", int8 = "CharStorage"
    case uint8 = "ByteStorage", bool = "BoolStorage"

    var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// The name the public API reports (safetensors spelling).
    var tensorDType: TensorDType {
        switch self {
        case .float32: return .float32
        case .float16: return .float16
        case .bfloat16: return .bfloat16
        case .float64: return .float64
        case .int64: return .int64
        case .int32: return .int32
        case .int16: return .int16
        case .int8: return .int8
        case .uint8: return .uint8
        case .bool: return .bool
        }
    }
}

/// The only globals a state dict needs; anything else is refused when read.
enum AllowedGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case rebuildParameterWithState
    case storageClass(StorageDType)

    static func resolve(module: String, name: String) -> AllowedGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameterWithState
        case ("torch", _): return StorageDType(rawValue: name).map { .storageClass($0) }
        default: return nil
        }
    }
}

/// A storage named by a persistent id: ('storage', class, key, location, numel[, view]).
struct StorageReference {
    let dtype: StorageDType
    let key: String
    /// Elements in the storage (as recorded in the pickle).
    let count: Int
    /// Legacy files only: the storage is a view of `rootKey` starting at `rootOffset` elements.
    let rootKey: String
    let rootOffset: Int
}

/// A tensor view: `_rebuild_tensor_v2(storage, offset, size, stride, ...)`.
struct TensorReference {
    let storage: StorageReference
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}

enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits: little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case global(AllowedGlobal)
    case tuple(Int)
    case list(Int)
    case dict(Int)
    /// Boxed: a StorageReference is ~60 bytes and would make every stack, memo and
    /// container slot that large; boxed, a PickleValue is 24 bytes (a String and a tag).
    indirect case storage(StorageReference)
    case tensor(Int)

    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .global: return "global"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

struct PickleDict {
    /// Items in insertion order; duplicates are resolved by whoever reads them.
    var items: [(key: PickleValue, value: PickleValue)] = []
    /// Attributes set by BUILD (an OrderedDict's `_metadata` arrives this way).
    var attributes: [(key: PickleValue, value: PickleValue)] = []
}

/// Every container built while unpickling, addressed by the indices in `PickleValue`.
struct PickleArena {
    var tuples: [[PickleValue]] = []
    var lists: [[PickleValue]] = []
    var dicts: [PickleDict] = []
    var tensors: [TensorReference] = []

    /// The items of a tuple or list; nil for other values.
    func sequence(_ value: PickleValue) -> [PickleValue]? {
        switch value {
        case let .tuple(i): return tuples[i]
        case let .list(i): return lists[i]
        default: return nil
        }
    }

    /// String-keyed lookup in a dict (the last duplicate wins, as in Python).
    func lookup(_ key: String, in items: [(key: PickleValue, value: PickleValue)]) -> PickleValue? {
        var found: PickleValue?
        for item in items {
            if case let .string(k) = item.key, k == key { found = item.value }
        }
        return found
    }
}
