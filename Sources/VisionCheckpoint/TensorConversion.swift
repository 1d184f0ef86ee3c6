// Conversion of stored tensor elements (any supported dtype, any strided view)
// into a new contiguous Float32 `Tensor`. The dtype switch happens once per
// contiguous run; the element loops are tight and use unaligned loads because
// legacy and safetensors data need not be aligned.

import VisionCore

/// Element types found in checkpoints; raw values are the safetensors spellings.
public enum TensorDType: String, Sendable, CaseIterable {
    case float32 = "F32", float16 = "F16", bfloat16 = "BF16", float64 = "F64"
    case int64 = "I64", int32 = "I32", int16 = "I16", int8 = "I8", uint8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}

/// Where a tensor's elements live: `count` elements of `dtype` starting at `base`.
struct RawStorage {
    let base: UnsafeRawPointer?
    let count: Int
    let dtype: TensorDType
}

enum TensorConversion {
    /// 64 MiB of Float32: the most an expanded (zero-stride) view may materialise.
    static let maxExpandedElements = 1 << 24

    /// Row-major strides of `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running = running &* shape[axis]
        }
        return strides
    }

    /// Copies the view (offset, shape, strides, all in elements) out of `storage`
    /// as Float32, after checking that every element it touches is inside the storage.
    static func makeTensor(
        from storage: RawStorage, offset: Int, shape: [Int], strides: [Int], fileName: String, key: String
    ) throws -> Tensor {
        func outOfRange(_ message: String) -> CheckpointError {
            CheckpointError.storageOutOfRange(file: fileName, key: key, message: message)
        }
        guard shape.count == strides.count, offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw outOfRange("invalid view (offset \(offset), size \(shape), stride \(strides))")
        }
        var count = 1
        var lastIndex = offset
        for (size, stride) in zip(shape, strides) {
            let (n, o1) = count.multipliedReportingOverflow(by: size)
            guard !o1 else { throw outOfRange("size \(shape) overflows") }
            count = n
            if size > 0 {
                let (reach, o2) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, o3) = lastIndex.addingReportingOverflow(reach)
                guard !o2, !o3 else { throw outOfRange("stride \(strides) overflows") }
                lastIndex = sum
            }
        }
        // Zero strides (expanded views) can describe far more elements than the file
        // holds; cap what a file may make us allocate beyond its own storage.
        guard count <= max(storage.count, maxExpandedElements) else {
            throw outOfRange("view of \(count) elements from a storage of \(storage.count) exceeds the \(maxExpandedElements)-element limit for expanded views")
        }
        let tensor = Tensor(uninitializedShape: shape)
        guard count > 0 else { return tensor }
        guard lastIndex < storage.count, let base = storage.base else {
            throw outOfRange("view (offset \(offset), size \(shape), stride \(strides)) reaches element \(lastIndex) of a storage of \(storage.count)")
        }
        let out = tensor.storage.pointer
        let elementSize = storage.dtype.byteSize
        // Drop size-1 axes: their stride never matters, and a run may then span more axes.
        var dims: [(size: Int, stride: Int)] = zip(shape, strides).filter { $0.0 != 1 }.map { ($0.0, $0.1) }
        // Merge axes that are contiguous with the next one so the inner run is as long as possible.
        var merged: [(size: Int, stride: Int)] = []
        for dim in dims.reversed() {
            if let last = merged.last, dim.stride == last.size &* last.stride {
                merged[merged.count - 1] = (last.size &* dim.size, last.stride)
            } else {
                merged.append(dim)
            }
        }
        dims = merged.reversed()
        let inner = dims.last ?? (size: 1, stride: 1)
        let outer = dims.dropLast()
        let runs = count / inner.size
        var index = [Int](repeating: 0, count: outer.count)
        var sourceElement = offset
        for run in 0 ..< runs {
            convertRun(storage.dtype, source: base + sourceElement &* elementSize, strideBytes: inner.stride &* elementSize,
                       destination: out + run &* inner.size, count: inner.size)
            // Advance the outer multi-index (odometer order, last axis fastest).
            var axis = outer.count - 1
            while axis >= 0 {
                let dim = outer[outer.startIndex + axis]
                index[axis] += 1
                sourceElement = sourceElement &+ dim.stride
                if index[axis] < dim.size { break }
                sourceElement = sourceElement &- dim.stride &* dim.size
                index[axis] = 0
                axis -= 1
            }
        }
        return tensor
    }

    /// Converts `count` elements spaced `strideBytes` apart into consecutive floats.
    static func convertRun(
        _ dtype: TensorDType, source: UnsafeRawPointer, strideBytes: Int, destination: UnsafeMutablePointer<Float>, count: Int
    ) {
        switch dtype {
        case .float32:
            if strideBytes == 4 {
                UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count &* 4)
            } else {
                gather(source, strideBytes, destination, count) { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
            }
        case .float16:
            gather(source, strideBytes, destination, count) { Float(Float16(bitPattern: UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self)))) }
        case .bfloat16:
            gather(source, strideBytes, destination, count) {
                Float(bitPattern: UInt32(UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self))) << 16)
            }
        case .float64:
            gather(source, strideBytes, destination, count) { Float(Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)))) }
        case .int64:
            gather(source, strideBytes, destination, count) { Float(Int64(littleEndian: $0.loadUnaligned(as: Int64.self))) }
        case .int32:
            gather(source, strideBytes, destination, count) { Float(Int32(littleEndian: $0.loadUnaligned(as: Int32.self))) }
        case .int16:
            gather(source, strideBytes, destination, count) { Float(Int16(littleEndian: $0.loadUnaligned(as: Int16.self))) }
        case .int8:
            gather(source, strideBytes, destination, count) { Float($0.load(as: Int8.self)) }
        case .uint8:
            gather(source, strideBytes, destination, count) { Float($0.load(as: UInt8.self)) }
        case .bool:
            gather(source, strideBytes, destination, count) { $0.load(as: UInt8.self) != 0 ? 1 : 0 }
        }
    }

    @inline(__always)
    private static func gather(
        _ source: UnsafeRawPointer, _ strideBytes: Int, _ destination: UnsafeMutablePointer<Float>, _ count: Int,
        _ load: (UnsafeRawPointer) -> Float
    ) {
        var p = source
        for i in 0 ..< count {
            destination[i] = load(p)
            p = p + strideBytes
        }
    }
}
