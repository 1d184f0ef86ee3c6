// Dequantisation of TFLite constants the shared MobileNetV2 does not use (it is uint8
// per tensor): int8 per channel on the first and the last axis, int32 biases, float32,
// on small models written by a minimal FlatBuffers builder below.

import Foundation
import VisionCheckpoint
import VisionCore
import XCTest

/// A FlatBuffers value: a table (field id -> field), a vector of scalars, of tables, a string.
indirect enum FlatNode {
    case table([Int: FlatField])
    case scalars(count: Int, bytes: [UInt8])
    case tables([FlatNode])
    case string(String)

    static func int32s(_ values: [Int32]) -> FlatNode { .scalars(count: values.count, bytes: values.flatMap { le($0) }) }
    static func float32s(_ values: [Float]) -> FlatNode { .scalars(count: values.count, bytes: values.flatMap { le($0.bitPattern) }) }
    static func int64s(_ values: [Int64]) -> FlatNode { .scalars(count: values.count, bytes: values.flatMap { le($0) }) }
    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

    /// A file: root offset, the "TFL3" identifier, then this node. Written front to back, so
    /// every offset (uint32, relative to its own position) points forward, vtables just before their tables.
    func file() -> [UInt8] {
        var out: [UInt8] = [0, 0, 0, 0] + Array("TFL3".utf8)
        let root = write(into: &out)
        out.replaceSubrange(0 ..< 4, with: Self.le(UInt32(root)))
        return out
    }

    private func write(into out: inout [UInt8]) -> Int {
        switch self {
        case let .table(fields):
            let ids = fields.keys.sorted(), slots = (ids.last ?? -1) + 1
            var layout: [(id: Int, offset: Int)] = [], size = 4
            for id in ids {
                layout.append((id, size))
                if case .u8 = fields[id]! { size += 1 } else { size += 4 }
            }
            let vtable = out.count, vtableBytes = 4 + 2 * slots
            var offsets = [UInt16](repeating: 0, count: slots)
            for (id, offset) in layout { offsets[id] = UInt16(offset) }
            out += Self.le(UInt16(vtableBytes)) + Self.le(UInt16(size)) + offsets.flatMap { Self.le($0) }
            let table = out.count
            out += Self.le(Int32(table - vtable))
            var references: [(at: Int, node: FlatNode)] = []
            for (id, _) in layout {
                switch fields[id]! {
                case let .u8(value): out.append(value)
                case let .i32(value): out += Self.le(value)
                case let .ref(node): references.append((out.count, node)); out += [0, 0, 0, 0]
                }
            }
            for (at, node) in references { Self.patch(&out, at, node.write(into: &out)) }
            return table
        case let .scalars(count, bytes):
            let start = out.count
            out += Self.le(UInt32(count)) + bytes
            return start
        case let .tables(nodes):
            let start = out.count
            out += Self.le(UInt32(nodes.count)) + [UInt8](repeating: 0, count: 4 * nodes.count)
            for (i, node) in nodes.enumerated() { Self.patch(&out, start + 4 + 4 * i, node.write(into: &out)) }
            return start
        case let .string(text):
            let start = out.count
            out += Self.le(UInt32(text.utf8.count)) + Array(text.utf8) + [0]
            return start
        }
    }

    private static func patch(_ out: inout [UInt8], _ at: Int, _ target: Int) {
        out.replaceSubrange(at ..< at + 4, with: le(UInt32(target - at)))
    }
}

enum FlatField {
    case u8(UInt8)
    case i32(Int32)
    case ref(FlatNode)
}

final class TFLiteDequantizationTests: XCTestCase {
    struct Constant {
        let name: String
        let shape: [Int32]
        let type: UInt8  // schema.fbs TensorType: FLOAT32 0, INT32 2, UINT8 3, INT8 9
        let data: [UInt8]
        var scale: [Float] = []
        var zeroPoint: [Int64] = []
        var axis: Int32 = 0
    }

    /// A one-subgraph model holding `constants` (buffer i + 1 each) and a tensor with no data.
    static func model(_ constants: [Constant]) -> [UInt8] {
        var tensors: [FlatNode] = constants.enumerated().map { i, c in
            var fields: [Int: FlatField] = [0: .ref(.int32s(c.shape)), 1: .u8(c.type), 2: .i32(Int32(i + 1)), 3: .ref(.string(c.name))]
            if !c.scale.isEmpty {
                fields[4] = .ref(.table([2: .ref(.float32s(c.scale)), 3: .ref(.int64s(c.zeroPoint)), 6: .i32(c.axis)]))
            }
            return .table(fields)
        }
        tensors.append(.table([0: .ref(.int32s([1, 4])), 1: .u8(0), 2: .i32(0), 3: .ref(.string("activation"))]))
        let buffers: [FlatNode] = [.table([:])] + constants.map { .table([0: .ref(.scalars(count: $0.data.count, bytes: $0.data))]) }
        let subgraph = FlatNode.table([0: .ref(.tables(tensors)), 1: .ref(.int32s([])), 3: .ref(.tables([]))])
        return FlatNode.table([1: .ref(.tables([])), 2: .ref(.tables([subgraph])), 4: .ref(.tables(buffers))]).file()
    }

    func testIntegerAndFloatConstantsDequantise() throws {
        let int8 = { (values: [Int8]) in values.map { UInt8(bitPattern: $0) } }
        let constants = [
            // int8 per channel on axis 0 of [2, 1, 1, 3]: real = scale[c] * (q - zero_point[c]).
            Constant(name: "conv", shape: [2, 1, 1, 3], type: 9, data: int8([-128, -1, 0, 5, 127, 3]),
                     scale: [0.5, 0.25], zeroPoint: [1, -2], axis: 0),
            // int8 per channel on the last axis (depthwise layout [1, kh, kw, out]).
            Constant(name: "depthwise", shape: [1, 2, 2, 2], type: 9, data: int8([1, 2, 3, 4, 5, 6, 7, -8]),
                     scale: [0.5, 2], zeroPoint: [0, 0], axis: 3),
            Constant(name: "uint8", shape: [3], type: 3, data: [0, 128, 255], scale: [0.0078125], zeroPoint: [128]),
            Constant(name: "bias", shape: [2], type: 2, data: FlatNode.le(Int32(-125)) + FlatNode.le(Int32(8750)),
                     scale: [0.125], zeroPoint: [0]),
            Constant(name: "float", shape: [2], type: 0, data: FlatNode.le(Float(1.5).bitPattern) + FlatNode.le(Float(-2.25).bitPattern)),
        ]
        let read = try TFLiteConstants.read(bytes: Self.model(constants), name: "constants.tflite")
        XCTAssertEqual(read.map(\.name), ["conv", "depthwise", "uint8", "bias", "float"], "the data-less tensor is left out")
        let expected: [[Float]] = [
            [-64.5, -1, -0.5, 1.75, 32.25, 1.25],
            [0.5, 4, 1.5, 8, 2.5, 12, 3.5, -16],
            [-1, 0, 0.9921875],
            [-15.625, 1093.75],
            [1.5, -2.25],
        ]
        for ((name, tensor), (constant, values)) in zip(read, zip(constants, expected)) {
            XCTAssertEqual(tensor.shape, constant.shape.map(Int.init), name)
            XCTAssertEqual(tensor.values, values, name)
        }
    }

    func testInconsistentQuantisationIsRefusedNamingTheFile() throws {
        let cases: [(Constant, String)] = [
            (Constant(name: "w", shape: [2], type: 9, data: [1, 2]), "q.tflite: tensor w is integer but has no scale"),
            (Constant(name: "w", shape: [2, 3], type: 9, data: [UInt8](repeating: 1, count: 6), scale: [1, 2, 3], zeroPoint: [0, 0, 0], axis: 0),
             "q.tflite: tensor w: 3 scales and 3 zero points on axis 0 of shape [2, 3]"),
            (Constant(name: "w", shape: [2, 3], type: 9, data: [1, 2, 3], scale: [1], zeroPoint: [0]),
             "q.tflite: tensor 'w': storage out of range: 3 bytes of data for shape [2, 3] of INT8"),
            (Constant(name: "w", shape: [2], type: 7, data: [1, 2, 3, 4], scale: [1], zeroPoint: [0]),
             "q.tflite: tensor w: unsupported type INT16"),
        ]
        for (constant, message) in cases {
            XCTAssertEqual(CheckpointFixtures.errorMessage { _ = try TFLiteConstants.read(bytes: Self.model([constant]), name: "q.tflite") },
                           message)
        }
    }
}
