// Emits the protocol-2 pickle torch writes for a Float32 or Float16 state dict:
//   OrderedDict() with SETITEMS of
//     key -> _rebuild_tensor_v2(persistent ('storage', FloatStorage|HalfStorage, "<n>", 'cpu', numel),
//                               0, size, stride, False, OrderedDict())
//   then BUILD {'_metadata': {prefix: {'version': v}}} when versions are known.
// Only globals that torch.load(weights_only=True) accepts are used.

struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2
    private var memoSlots: [String: Int] = [:]

    mutating func op(_ code: UInt8) { bytes.append(code) }

    /// GLOBAL, memoized so each name is spelled once.
    mutating func global(_ module: String, _ name: String) {
        let qualified = module + "\n" + name + "\n"
        if let slot = memoSlots[qualified] {
            getMemo(slot)
            return
        }
        op(0x63)
        bytes += Array(qualified.utf8)
        let slot = memoSlots.count
        memoSlots[qualified] = slot
        op(0x72)  // LONG_BINPUT
        appendLE(&bytes, UInt32(slot))
    }

    private mutating func getMemo(_ slot: Int) {
        op(0x6A)  // LONG_BINGET
        appendLE(&bytes, UInt32(slot))
    }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        op(0x58)  // BINUNICODE
        appendLE(&bytes, UInt32(utf8.count))
        bytes += utf8
    }

    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 {
            op(0x4B); bytes.append(UInt8(v))  // BININT1
        } else if v >= 0 && v < 65536 {
            op(0x4D); appendLE(&bytes, UInt16(v))  // BININT2
        } else if v >= Int(Int32.min) && v <= Int(Int32.max) {
            op(0x4A); appendLE(&bytes, Int32(v))  // BININT
        } else {
            // LONG1: minimal little-endian two's complement.
            var payload: [UInt8] = []
            withUnsafeBytes(of: Int64(v).littleEndian) { payload = Array($0) }
            while payload.count > 1,
                  (payload[payload.count - 1] == 0 && payload[payload.count - 2] & 0x80 == 0)
                    || (payload[payload.count - 1] == 0xFF && payload[payload.count - 2] & 0x80 != 0) {
                payload.removeLast()
            }
            op(0x8A); bytes.append(UInt8(payload.count)); bytes += payload
        }
    }

    mutating func intTuple(_ values: [Int]) {
        switch values.count {
        case 0: op(0x29)  // EMPTY_TUPLE
        case 1...3:
            values.forEach { int($0) }
            op(0x84 + UInt8(values.count))  // TUPLE1..3
        default:
            op(0x28)  // MARK
            values.forEach { int($0) }
            op(0x74)  // TUPLE
        }
    }

    mutating func emptyOrderedDict() {
        global("collections", "OrderedDict")
        op(0x29); op(0x52)  // EMPTY_TUPLE, REDUCE
    }

    /// A tensor stored contiguously in storage `storageKey` of type `storageClass`.
    mutating func tensor(shape: [Int], storageKey: String, storageClass: StorageDType) {
        let count = shape.reduce(1, *)
        global("torch._utils", "_rebuild_tensor_v2")
        op(0x28)  // MARK: arguments
        op(0x28)  // MARK: persistent id
        string("storage")
        global("torch", storageClass.rawValue)
        string(storageKey)
        string("cpu")
        int(count)
        op(0x74)  // TUPLE
        op(0x51)  // BINPERSID
        int(0)  // storage offset
        intTuple(shape)
        intTuple(TensorConversion.contiguousStrides(shape))
        op(0x89)  // requires_grad = False
        emptyOrderedDict()  // backward hooks
        op(0x74)  // TUPLE
        op(0x52)  // REDUCE
    }

    /// The complete pickle of a state dict; storages are named "0", "1", ... in key order.
    static func stateDictPickle(
        keys: [String], shapes: [[Int]], storageClass: StorageDType = .float32, moduleVersions: [String: Int]
    ) -> [UInt8] {
        var w = PickleWriter()
        w.emptyOrderedDict()
        var index = 0
        while index < keys.count {
            // Batches of 1000 items per SETITEMS, as Python's pickler does.
            w.op(0x28)
            for i in index ..< min(index + 1000, keys.count) {
                w.string(keys[i])
                w.tensor(shape: shapes[i], storageKey: String(i), storageClass: storageClass)
            }
            w.op(0x75)  // SETITEMS
            index += 1000
        }
        if !moduleVersions.isEmpty {
            w.op(0x7D)  // EMPTY_DICT: the state for BUILD
            w.string("_metadata")
            w.emptyOrderedDict()
            w.op(0x28)
            for prefix in moduleVersions.keys.sorted() {
                w.string(prefix)
                w.op(0x7D)
                w.string("version")
                w.int(moduleVersions[prefix]!)
                w.op(0x73)  // SETITEM
            }
            w.op(0x75)  // SETITEMS
            w.op(0x73)  // SETITEM
            w.op(0x62)  // BUILD
        }
        w.op(0x2E)  // STOP
        return w.bytes
    }
}
