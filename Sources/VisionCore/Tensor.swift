// Tensor: a contiguous, row-major Float32 array with a shape, in host memory or on
// a device backend's device (see TensorStorage).
// Images and feature maps are NCHW. Tensors are values: operations return new
// tensors and never write into their inputs, so sharing storage is safe.

import VisionKernels

/// A buffer in which a device backend keeps a tensor (GPU memory); opaque to
/// everything but the backend that made it.
public protocol DeviceBuffer: AnyObject, Sendable {
    /// The device, for messages ("vulkan: NVIDIA H200").
    var deviceName: String { get }
}

/// Owns a tensor's elements: one 64-byte-aligned Float32 buffer in host memory, or a
/// device backend's buffer. A class so tensors share it cheaply; `pointer` (host storage
/// only) is stable for the storage's lifetime, which is what kernels rely on.
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    private let host: UnsafeMutablePointer<Float>?
    /// The device buffer of a tensor that lives on a device, nil in host memory.
    public let device: (any DeviceBuffer)?
    /// The size of the LargeBlockCache block holding `host`, 0 for a malloc'd one.
    private let cachedBlockBytes: Int

    /// Uninitialised host storage of `count` floats (contents undefined).
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative tensor size \(count)")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw: UnsafeMutableRawPointer
        if let block = LargeBlockCache.shared.take(bytes: bytes) {
            raw = block.pointer
            cachedBlockBytes = block.bytes
        } else {
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            cachedBlockBytes = 0
        }
        host = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        device = nil
    }

    /// Storage of `count` floats held in a device backend's `buffer`.
    public init(device buffer: any DeviceBuffer, count: Int) {
        precondition(count >= 0, "negative tensor size \(count)")
        self.count = count
        host = nil
        device = buffer
        cachedBlockBytes = 0
    }

    /// The host elements. A tensor on a device has none: model code reads device
    /// tensors only through its backend's `readBack` (ComputeBackend.swift).
    public var pointer: UnsafeMutablePointer<Float> {
        if let host { return host }
        fatalError("a tensor of \(count) floats lives on \(device?.deviceName ?? "a device"); read it back at a ReadBackPoint first")
    }

    deinit {
        guard let host else { return }
        if cachedBlockBytes > 0 {
            LargeBlockCache.shared.release(UnsafeMutableRawPointer(host), bytes: cachedBlockBytes)
        } else {
            UnsafeMutableRawPointer(host).deallocate()
        }
    }
}

public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: TensorStorage

    /// Number of elements (product of `shape`).
    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// A tensor whose contents are undefined: for kernels that write every element.
    public init(uninitializedShape shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: Tensor.elementCount(shape))
    }

    /// A tensor filled with `value` (zeros by default).
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
    }

    public init(shape: [Int], values: [Float]) {
        let n = Tensor.elementCount(shape)
        precondition(values.count == n, "shape \(shape) needs \(n) values, got \(values.count)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { src in
            if n > 0 { storage.pointer.update(from: src.baseAddress!, count: n) }
        }
    }

    /// Whether the elements live on a device (readable on the host only after a read-back).
    public var isOnDevice: Bool { storage.device != nil }

    public init(shape: [Int], storage: TensorStorage) {
        precondition(Tensor.elementCount(shape) == storage.count, "shape \(shape) does not match storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    /// Same storage, another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    /// A copy of the elements as an array (row-major).
    public var values: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Writes go to the shared storage: call only on a tensor you just created.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        if count > 0 { out.storage.pointer.update(from: storage.pointer, count: count) }
        return out
    }

    public subscript(flat index: Int) -> Float {
        get { storage.pointer[index] }
        nonmutating set { storage.pointer[index] = newValue }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor(\(shape))" }
}
