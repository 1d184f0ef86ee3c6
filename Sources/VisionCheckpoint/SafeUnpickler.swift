// A whitelisting pickle reader. It interprets only the opcodes a torch state
// dict uses and only the globals in `AllowedGlobal`; every other opcode or
// global is refused with an error. Nothing is ever called: REDUCE on an
// allowed global builds a plain value (a dict, a tensor reference).
//
// Hostile input is bounded: every length is checked against the bytes left,
// the stack, the memo and the total number of container items are capped, and
// containers live in an arena so nothing recurses.

struct SafeUnpickler {
    /// torch pickles batch APPENDS/SETITEMS by 1000, so their stacks stay shallow;
    /// 2^18 slots of 24 bytes keep a hostile stack (or mark list) near 6 MB.
    static let maxStackDepth = 1 << 18
    static let maxMemoEntries = 1 << 20
    static let maxContainerItems = 1 << 24
    static let maxGlobalNameLength = 512

    var reader: ByteReader
    var arena = PickleArena()
    /// Maps a persistent id (the items of its tuple) to a value; torch's id names a storage.
    let persistentLoad: (inout PickleArena, PickleValue) throws -> PickleValue

    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var containerItems = 0

    init(reader: ByteReader, persistentLoad: @escaping (inout PickleArena, PickleValue) throws -> PickleValue) {
        self.reader = reader
        self.persistentLoad = persistentLoad
    }

    var fileName: String { reader.fileName }

    private func fail(_ message: String) -> CheckpointError {
        CheckpointError.badPickle(file: fileName, message: message)
    }

    private mutating func push(_ value: PickleValue) throws {
        guard stack.count < Self.maxStackDepth else { throw fail("stack deeper than \(Self.maxStackDepth)") }
        stack.append(value)
    }

    private mutating func pop(_ opcode: String) throws -> PickleValue {
        guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else {
            throw fail("stack underflow at \(opcode)")
        }
        return value
    }

    /// Pops everything above the topmost MARK.
    private mutating func popToMark(_ opcode: String) throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw fail("\(opcode) without MARK") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func countItems(_ n: Int) throws {
        containerItems += n
        guard containerItems <= Self.maxContainerItems else {
            throw fail("more than \(Self.maxContainerItems) container items")
        }
    }

    private mutating func newTuple(_ items: [PickleValue]) throws -> PickleValue {
        try countItems(items.count + 1)
        arena.tuples.append(items)
        return .tuple(arena.tuples.count - 1)
    }

    private mutating func memoPut(_ index: Int) throws {
        guard let top = stack.last, stack.count > (marks.last ?? 0) else {
            throw fail("memo put with an empty stack")
        }
        guard memo[index] != nil || memo.count < Self.maxMemoEntries else {
            throw fail("more than \(Self.maxMemoEntries) memo entries")
        }
        memo[index] = top
    }

    private mutating func memoGet(_ index: Int) throws {
        guard let value = memo[index] else { throw fail("memo index \(index) is not set") }
        try push(value)
    }

    private mutating func readLine(_ what: String) throws -> String {
        var bytes: [UInt8] = []
        while true {
            let byte = try reader.u8(what)
            if byte == 0x0A { break }
            bytes.append(byte)
            guard bytes.count <= Self.maxGlobalNameLength else { throw fail("\(what) longer than \(Self.maxGlobalNameLength) bytes") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func readString(_ count: Int, _ what: String) throws -> String {
        String(decoding: try reader.slice(count, what), as: UTF8.self)
    }

    private func resolveGlobal(module: String, name: String) throws -> PickleValue {
        guard let allowed = AllowedGlobal.resolve(module: module, name: name) else {
            throw CheckpointError.refusedGlobal(file: fileName, name: "\(module).\(name)")
        }
        return .global(allowed)
    }

    /// Reads one pickle, up to and including its STOP, and returns its value.
    mutating func load() throws -> PickleValue {
        stack.removeAll(keepingCapacity: true)
        marks.removeAll(keepingCapacity: true)
        memo.removeAll(keepingCapacity: true)
        while true {
            let start = reader.position
            let opcode = try reader.u8("pickle opcode")
            switch opcode {
            case 0x80:  // PROTO
                let version = try reader.u8("protocol")
                guard version <= 5 else { throw fail("unknown pickle protocol \(version)") }
            case 0x95:  // FRAME (protocol 4): a length hint only
                _ = try reader.u64("frame length")
            case 0x2E:  // STOP
                guard let value = stack.popLast(), stack.isEmpty, marks.isEmpty else {
                    throw fail("STOP with \(stack.count) stack items and \(marks.count) open marks")
                }
                return value
            case 0x28: marks.append(stack.count)  // MARK
                guard marks.count <= Self.maxStackDepth else { throw fail("too many marks") }
            case 0x30: _ = try pop("POP")  // POP
            case 0x31: _ = try popToMark("POP_MARK")
            case 0x32:  // DUP
                guard let top = stack.last else { throw fail("DUP on an empty stack") }
                try push(top)
            case 0x4E: try push(.none)  // NONE
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false))  // NEWFALSE
            case 0x4A: try push(.int(Int(Int32(bitPattern: try reader.u32("BININT")))))
            case 0x4B: try push(.int(Int(try reader.u8("BININT1"))))
            case 0x4D: try push(.int(Int(try reader.u16("BININT2"))))
            case 0x8A:  // LONG1
                let n = Int(try reader.u8("LONG1 length"))
                try push(Self.decodeLong(Array(try reader.slice(n, "LONG1"))))
            case 0x8B:  // LONG4
                let n = Int(Int32(bitPattern: try reader.u32("LONG4 length")))
                guard n >= 0, n <= 1 << 16 else { throw fail("LONG4 of \(n) bytes") }
                try push(Self.decodeLong(Array(try reader.slice(n, "LONG4"))))
            case 0x47:  // BINFLOAT: big-endian IEEE double
                let bits = try reader.u64("BINFLOAT")
                try push(.float(Double(bitPattern: bits.byteSwapped)))
            case 0x58:  // BINUNICODE
                let n = Int(try reader.u32("BINUNICODE length"))
                try push(.string(try readString(n, "BINUNICODE")))
            case 0x8C:  // SHORT_BINUNICODE
                let n = Int(try reader.u8("SHORT_BINUNICODE length"))
                try push(.string(try readString(n, "SHORT_BINUNICODE")))
            case 0x8D:  // BINUNICODE8
                let n = try reader.u64("BINUNICODE8 length")
                guard n <= UInt64(reader.remaining) else { throw CheckpointError.truncated(file: fileName, context: "BINUNICODE8") }
                try push(.string(try readString(Int(n), "BINUNICODE8")))
            case 0x54:  // BINSTRING (Python 2 str, from old legacy files)
                let n = Int(Int32(bitPattern: try reader.u32("BINSTRING length")))
                guard n >= 0 else { throw fail("negative BINSTRING length") }
                try push(.string(try readString(n, "BINSTRING")))
            case 0x55:  // SHORT_BINSTRING
                let n = Int(try reader.u8("SHORT_BINSTRING length"))
                try push(.string(try readString(n, "SHORT_BINSTRING")))
            case 0x42:  // BINBYTES
                let n = Int(try reader.u32("BINBYTES length"))
                try push(.bytes(Array(try reader.slice(n, "BINBYTES"))))
            case 0x43:  // SHORT_BINBYTES
                let n = Int(try reader.u8("SHORT_BINBYTES length"))
                try push(.bytes(Array(try reader.slice(n, "SHORT_BINBYTES"))))
            case 0x29: try push(try newTuple([]))  // EMPTY_TUPLE
            case 0x74: try push(try newTuple(try popToMark("TUPLE")))  // TUPLE
            case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
                let n = Int(opcode - 0x84)
                guard stack.count - n >= (marks.last ?? 0) else { throw fail("stack underflow at TUPLE\(n)") }
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                try push(try newTuple(items))
            case 0x5D:  // EMPTY_LIST
                try countItems(1)
                arena.lists.append([])
                try push(.list(arena.lists.count - 1))
            case 0x6C:  // LIST
                let items = try popToMark("LIST")
                try countItems(items.count + 1)
                arena.lists.append(items)
                try push(.list(arena.lists.count - 1))
            case 0x61:  // APPEND
                let value = try pop("APPEND")
                try append([value], opcode: "APPEND")
            case 0x65:  // APPENDS
                let items = try popToMark("APPENDS")
                try append(items, opcode: "APPENDS")
            case 0x7D:  // EMPTY_DICT
                try countItems(1)
                arena.dicts.append(PickleDict())
                try push(.dict(arena.dicts.count - 1))
            case 0x64:  // DICT
                let items = try popToMark("DICT")
                try countItems(1)
                arena.dicts.append(PickleDict())
                try push(.dict(arena.dicts.count - 1))
                try setItems(items, opcode: "DICT")
            case 0x73:  // SETITEM
                let value = try pop("SETITEM")
                let key = try pop("SETITEM")
                try setItems([key, value], opcode: "SETITEM")
            case 0x75:  // SETITEMS
                try setItems(try popToMark("SETITEMS"), opcode: "SETITEMS")
            case 0x63:  // GLOBAL
                let module = try readLine("GLOBAL module")
                let name = try readLine("GLOBAL name")
                try push(try resolveGlobal(module: module, name: name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop("STACK_GLOBAL")
                let module = try pop("STACK_GLOBAL")
                guard case let .string(m) = module, case let .string(n) = name else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try push(try resolveGlobal(module: m, name: n))
            case 0x52:  // REDUCE
                let arguments = try pop("REDUCE")
                let callable = try pop("REDUCE")
                try push(try reduce(callable, arguments))
            case 0x62:  // BUILD
                let state = try pop("BUILD")
                guard let target = stack.last, stack.count > (marks.last ?? 0) else { throw fail("BUILD on an empty stack") }
                build(target, state)
            case 0x51:  // BINPERSID
                let id = try pop("BINPERSID")
                try push(try persistentLoad(&arena, id))
            case 0x71: try memoPut(Int(try reader.u8("BINPUT index")))  // BINPUT
            case 0x72: try memoPut(Int(try reader.u32("LONG_BINPUT index")))  // LONG_BINPUT
            case 0x94: try memoPut(memo.count)  // MEMOIZE
            case 0x68: try memoGet(Int(try reader.u8("BINGET index")))  // BINGET
            case 0x6A: try memoGet(Int(try reader.u32("LONG_BINGET index")))  // LONG_BINGET
            default:
                throw CheckpointError.refusedOpcode(file: fileName, opcode: opcode, offset: reader.fileOffset + start)
            }
        }
    }

    private mutating func append(_ items: [PickleValue], opcode: String) throws {
        guard let target = stack.last, stack.count > (marks.last ?? 0) else { throw fail("\(opcode) without a list") }
        guard case let .list(index) = target else { throw fail("\(opcode) on a \(target.kindName)") }
        try countItems(items.count)
        arena.lists[index].append(contentsOf: items)
    }

    private mutating func setItems(_ items: [PickleValue], opcode: String) throws {
        guard items.count % 2 == 0 else { throw fail("\(opcode) with an odd number of items") }
        guard let target = stack.last, stack.count > (marks.last ?? 0) else { throw fail("\(opcode) without a dict") }
        guard case let .dict(index) = target else { throw fail("\(opcode) on a \(target.kindName)") }
        try countItems(items.count)
        var i = 0
        while i < items.count {
            arena.dicts[index].items.append((key: items[i], value: items[i + 1]))
            i += 2
        }
    }

    /// BUILD sets an object's state. Only a dict's attributes are kept (torch's
    /// OrderedDict `_metadata`); other state is dropped since nothing here has state.
    private mutating func build(_ target: PickleValue, _ state: PickleValue) {
        guard case let .dict(targetIndex) = target else { return }
        var stateDict = state
        if case let .tuple(t) = state, let first = arena.tuples[t].first { stateDict = first }
        if case let .dict(stateIndex) = stateDict {
            arena.dicts[targetIndex].attributes.append(contentsOf: arena.dicts[stateIndex].items)
        }
    }

    private mutating func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case let .global(global) = callable else { throw fail("REDUCE on a \(callable.kindName), not a global") }
        guard case let .tuple(argsIndex) = arguments else { throw fail("REDUCE arguments are a \(arguments.kindName), not a tuple") }
        let args = arena.tuples[argsIndex]
        switch global {
        case .orderedDict:
            guard args.isEmpty else { throw fail("OrderedDict() with arguments is not supported") }
            try countItems(1)
            arena.dicts.append(PickleDict())
            return .dict(arena.dicts.count - 1)
        case .rebuildTensorV2:
            return try rebuildTensor(args)
        case .rebuildParameter, .rebuildParameterWithState:
            guard let data = args.first, case .tensor = data else { throw fail("_rebuild_parameter without a tensor") }
            return data
        case let .storageClass(dtype):
            throw fail("REDUCE on storage class torch.\(dtype.rawValue) is not supported")
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    private mutating func rebuildTensor(_ args: [PickleValue]) throws -> PickleValue {
        guard args.count >= 4, case let .storage(storage) = args[0], case let .int(offset) = args[1],
              let size = arena.sequence(args[2]), let stride = arena.sequence(args[3])
        else { throw fail("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)") }
        func ints(_ values: [PickleValue], _ what: String) throws -> [Int] {
            try values.map {
                guard case let .int(v) = $0, v >= 0 else { throw fail("_rebuild_tensor_v2 \(what) holds a non-index value") }
                return v
            }
        }
        let shape = try ints(size, "size")
        let strides = try ints(stride, "stride")
        guard shape.count == strides.count, offset >= 0 else { throw fail("_rebuild_tensor_v2 size/stride/offset mismatch") }
        arena.tensors.append(TensorReference(storage: storage, offset: offset, shape: shape, strides: strides))
        return .tensor(arena.tensors.count - 1)
    }

    /// LONG1/LONG4 payload: little-endian two's complement.
    static func decodeLong(_ bytes: [UInt8]) -> PickleValue {
        if bytes.isEmpty { return .int(0) }
        guard bytes.count <= 8 else { return .bigInt(bytes) }
        var value: UInt64 = 0
        for (i, b) in bytes.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
        if bytes.count < 8, bytes.last! & 0x80 != 0 { value |= ~0 << (8 * UInt64(bytes.count)) }  // sign-extend
        return .int(Int(Int64(bitPattern: value)))
    }
}
