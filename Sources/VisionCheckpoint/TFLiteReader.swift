// The parts of a TFLite model (schema.fbs, file identifier "TFL3") a weight
// converter needs: subgraph 0's tensors and operators, the operator codes, and
// constant data dequantised to Float32. Field ids below are schema.fbs's
// (vtable slot = 4 + 2 * id).

import VisionCore

struct TFLiteQuantization {
    let scale: [Double]
    let zeroPoint: [Int64]
    let quantizedDimension: Int
}

struct TFLiteTensor {
    let name: String
    let shape: [Int]
    /// schema.fbs TensorType (FLOAT32 = 0, INT32 = 2, UINT8 = 3, INT8 = 9, ...).
    let type: Int
    let buffer: Int
    /// nil for float tensors (no quantization table, or an empty scale vector).
    let quantization: TFLiteQuantization?

    var typeName: String { TFLiteModel.typeNames.indices.contains(type) ? TFLiteModel.typeNames[type] : "TYPE_\(type)" }
}

struct TFLiteOperator {
    let index: Int
    let name: String
    let inputs: [Int]
    let outputs: [Int]
    /// schema.fbs BuiltinOptions union tag (Conv2DOptions = 1, DepthwiseConv2DOptions = 2,
    /// Pool2DOptions = 5, AddOptions = 11) and its table.
    let optionsType: UInt8
    let options: FlatBufferTable?
}

struct TFLiteModel {
    static let identifier = Array("TFL3".utf8)
    static let typeNames = ["FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64",
                            "INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4", "BFLOAT16"]
    /// schema.fbs BuiltinOperator 0 ..< 64; higher codes print as BUILTIN_<code>.
    static let operatorNames = [
        "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
        "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
        "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
        "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS",
        "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
        "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
        "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT",
        "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS",
        "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL"]

    let flatBuffer: FlatBuffer
    var fileName: String { flatBuffer.fileName }
    let tensors: [TFLiteTensor]
    let operators: [TFLiteOperator]
    /// Subgraph 0's input tensor indices.
    let inputs: [Int]
    private let buffers: [FlatBufferTable]

    /// True when bytes 4 ..< 8 are the TFLite file identifier "TFL3".
    static func hasIdentifier(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 8 && Array(bytes[4 ..< 8]) == identifier
    }

    init(_ bytes: UnsafeRawBufferPointer, fileName: String) throws {
        guard Self.hasIdentifier(bytes) else {
            if bytes.count < 8 { throw CheckpointError.truncated(file: fileName, context: "only \(bytes.count) bytes") }
            throw CheckpointError.badHeader(file: fileName, message: "not a TFLite model (bytes 4..8 are not the identifier \"TFL3\")")
        }
        flatBuffer = FlatBuffer(bytes: bytes, fileName: fileName)
        // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
        let model = try flatBuffer.root("model")
        let names = try model.tables(1, "operator_codes", element: "operator code").map { code in
            // OperatorCode: deprecated_builtin_code 0 (int8), builtin_code 3 (int32). Old files set
            // only the first, new ones both (the first capped at 127): the larger is the real one.
            let builtin = max(Int(try code.i8(0, "deprecated_builtin_code")), Int(try code.i32(3, "builtin_code")))
            return Self.operatorNames.indices.contains(builtin) ? Self.operatorNames[builtin] : "BUILTIN_\(builtin)"
        }
        let subgraphs = try model.tables(2, "subgraphs", element: "subgraph")
        guard subgraphs.count == 1 else {
            throw CheckpointError.unsupportedModel(file: fileName, message: "expected 1 subgraph, found \(subgraphs.count)")
        }
        buffers = try model.tables(4, "buffers", element: "buffer")
        // SubGraph: tensors 0, inputs 1, outputs 2, operators 3.
        let graph = subgraphs[0]
        inputs = try graph.int32s(1, "inputs").map(Int.init)
        tensors = try graph.tables(0, "tensors", element: "tensor").map(Self.tensor)
        operators = try graph.tables(3, "operators", element: "operator").enumerated().map { i, op in
            // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4.
            let code = Int(try op.u32(0, "opcode_index"))
            guard names.indices.contains(code) else {
                throw CheckpointError.badHeader(file: fileName, message: "operator \(i): opcode index \(code) of \(names.count)")
            }
            return TFLiteOperator(index: i, name: names[code], inputs: try op.int32s(1, "inputs").map(Int.init),
                                  outputs: try op.int32s(2, "outputs").map(Int.init),
                                  optionsType: try op.u8(3, "builtin_options_type"), options: try op.table(4, "builtin_options"))
        }
    }

    /// Tensor: shape 0, type 1 (int8), buffer 2, name 3, quantization 4.
    private static func tensor(_ table: FlatBufferTable) throws -> TFLiteTensor {
        var quantization: TFLiteQuantization?
        // QuantizationParameters: scale 2 (float[]), zero_point 3 (long[]), quantized_dimension 6.
        if let q = try table.table(4, "quantization") {
            let scale = try q.float32s(2, "scale").map(Double.init)
            if !scale.isEmpty {
                let zeroPoint = try q.int64s(3, "zero_point")
                quantization = TFLiteQuantization(
                    scale: scale, zeroPoint: zeroPoint.isEmpty ? Array(repeating: 0, count: scale.count) : zeroPoint,
                    quantizedDimension: Int(try q.i32(6, "quantized_dimension")))
            }
        }
        return TFLiteTensor(name: try table.string(3, "name") ?? "", shape: try table.int32s(0, "shape").map(Int.init),
                            type: Int(try table.i8(1, "type")), buffer: Int(try table.u32(2, "buffer")),
                            quantization: quantization)
    }

    func tensor(_ index: Int, _ where: String) throws -> TFLiteTensor {
        guard tensors.indices.contains(index) else {
            throw CheckpointError.badHeader(file: fileName, message: "\(`where`): tensor index \(index) of \(tensors.count)")
        }
        return tensors[index]
    }

    /// Whether `tensor` has constant data (weights, biases) rather than being computed at run time.
    func hasConstantData(_ tensor: TFLiteTensor) throws -> Bool {
        guard buffers.indices.contains(tensor.buffer) else { return false }
        let buffer = buffers[tensor.buffer]
        if let (_, count) = try buffer.vector(0, "data", elementSize: 1), count > 0 { return true }
        return try buffer.u64(1, "offset") > 1
    }

    /// The constant bytes of `tensor`: Buffer.data (field 0), or for large models the
    /// (offset 1, size 2) range of the file outside the flatbuffer.
    private func data(of tensor: TFLiteTensor) throws -> UnsafeRawBufferPointer {
        guard buffers.indices.contains(tensor.buffer) else {
            throw CheckpointError.badHeader(file: fileName, message: "tensor \(tensor.name): buffer \(tensor.buffer) of \(buffers.count)")
        }
        let buffer = buffers[tensor.buffer]
        if let (start, count) = try buffer.vector(0, "data", elementSize: 1), count > 0 {
            return UnsafeRawBufferPointer(rebasing: flatBuffer.bytes[start ..< start + count])
        }
        let offset = try buffer.u64(1, "offset"), size = try buffer.u64(2, "size")
        guard offset > 1 else {
            throw CheckpointError.unsupportedModel(file: fileName, message: "tensor \(tensor.name) has no constant data")
        }
        guard offset <= UInt64(Int.max), size <= UInt64(Int.max) else {
            throw flatBuffer.outside("tensor \(tensor.name) data", at: Int.max, length: Int.max)
        }
        try flatBuffer.check(Int(offset), Int(size), "tensor \(tensor.name) data")
        return UnsafeRawBufferPointer(rebasing: flatBuffer.bytes[Int(offset) ..< Int(offset) + Int(size)])
    }

    /// Float32 values of a constant tensor in its TFLite layout (shape `tensor.shape`):
    /// float32 as is, integers as scale * (q - zero_point), per tensor or along
    /// `quantizedDimension` (one scale per index of that axis). Computed in Double and
    /// rounded once to Float, as numpy's float64 scale * int64 difference, astype(float32).
    func dequantized(_ index: Int, _ where: String) throws -> Tensor {
        let tensor = try self.tensor(index, `where`)
        let bytes = try data(of: tensor)
        let elementSize: Int
        switch tensor.typeName {
        case "UINT8", "INT8": elementSize = 1
        case "INT32", "FLOAT32": elementSize = 4
        default:
            throw CheckpointError.unsupportedModel(file: fileName, message: "tensor \(tensor.name): unsupported type \(tensor.typeName)")
        }
        var elements: Int? = 1
        for size in tensor.shape {
            guard let n = elements, size >= 0 else { elements = nil; break }
            let (product, overflow) = n.multipliedReportingOverflow(by: size)
            elements = overflow ? nil : product
        }
        guard let elements, elements <= Int(Int32.max), elements * elementSize == bytes.count else {
            throw CheckpointError.storageOutOfRange(
                file: fileName, key: tensor.name, message: "\(bytes.count) bytes of data for shape \(tensor.shape) of \(tensor.typeName)")
        }
        let count = bytes.count / elementSize
        if tensor.typeName == "FLOAT32" {
            return Tensor(shape: tensor.shape, values: (0 ..< count).map { Float(bitPattern: bytes.leUInt32(at: 4 * $0)!) })
        }
        guard let q = tensor.quantization else {
            throw CheckpointError.unsupportedModel(file: fileName, message: "tensor \(tensor.name) is integer but has no scale")
        }
        // Per axis: element i's channel is (i / inner) % shape[axis], inner = product of the later dims.
        var inner = 1
        if q.scale.count > 1 {
            let axis = q.quantizedDimension
            guard tensor.shape.indices.contains(axis), tensor.shape[axis] == q.scale.count, q.zeroPoint.count == q.scale.count else {
                throw CheckpointError.unsupportedModel(
                    file: fileName, message: "tensor \(tensor.name): \(q.scale.count) scales and \(q.zeroPoint.count) zero points "
                        + "on axis \(axis) of shape \(tensor.shape)")
            }
            inner = tensor.shape[(axis + 1)...].reduce(1, *)
        } else if q.zeroPoint.count != 1 {
            throw CheckpointError.unsupportedModel(
                file: fileName, message: "tensor \(tensor.name): 1 scale but \(q.zeroPoint.count) zero points")
        }
        let channels = q.scale.count
        let raw: [Int64]
        switch tensor.typeName {
        case "UINT8": raw = bytes.map { Int64($0) }
        case "INT8": raw = bytes.map { Int64(Int8(bitPattern: $0)) }
        default: raw = (0 ..< count).map { Int64(Int32(bitPattern: bytes.leUInt32(at: 4 * $0)!)) }
        }
        // Wrapping subtraction as numpy's int64 does; real files have |q - zero_point| < 2^32.
        let values = raw.indices.map { i -> Float in
            let c = channels == 1 ? 0 : (i / inner) % channels
            return Float(q.scale[c] * Double(raw[i] &- q.zeroPoint[c]))
        }
        return Tensor(shape: tensor.shape, values: values)
    }
}

/// The constant tensors of any single-subgraph TFLite model.
public enum TFLiteConstants {
    /// Every tensor of subgraph 0 with constant data, in tensor order, dequantised to Float32 in
    /// its TFLite layout: float32 as is, uint8/int8/int32 as scale * (q - zero_point), per tensor
    /// or per channel of the quantized dimension. `name` stands for the file in errors.
    public static func read(bytes: [UInt8], name: String) throws -> [(name: String, tensor: Tensor)] {
        try bytes.withUnsafeBytes { raw in
            let model = try TFLiteModel(raw, fileName: name)
            return try model.tensors.indices.compactMap { i in
                try model.hasConstantData(model.tensors[i]) ? (model.tensors[i].name, try model.dequantized(i, "tensor \(i)")) : nil
            }
        }
    }
}

