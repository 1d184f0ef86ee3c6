// One Vulkan device opened for compute: the CVulkan context, its pipelines (made on
// first use from the embedded SPIR-V), and a pool of buffers.
//
// Buffer reuse: every command recorded runs in order behind a full memory barrier
// (CVulkan's recording model), so a device buffer released while recorded work still
// reads it can be handed to the next operation at once: that operation's writes are
// recorded later and run after every earlier read. Buffers are destroyed only after a
// submit has finished, when no recorded command refers to them. Host-visible buffers
// (staging and small per-call inputs) are written by the host at once, so they are held
// until the submit that reads them has finished, then reused.
//
// Not thread-safe by itself: the backend holds `lock` around every use.

import CVulkan
import CVulkanKernels
import Foundation
import VisionCore

final class VulkanContext: @unchecked Sendable {
    let handle: OpaquePointer
    let device: VulkanDeviceInfo
    /// Serialises every recording and submit (a detector may be shared by server workers).
    let lock = NSRecursiveLock()
    private var pipelines: [VulkanKernel: OpaquePointer] = [:]
    private var free: [PoolKey: [OpaquePointer]] = [:]
    private var cachedBytes: UInt64 = 0
    /// Buffers to destroy once no recorded command can refer to them.
    private var retiring: [OpaquePointer] = []
    /// Host-visible buffers the recorded work reads or writes, reusable after the submit.
    private var inFlightHost: [(PoolKey, OpaquePointer)] = []
    private var inFlightHostBytes: UInt64 = 0
    /// What this context has done so far (VulkanBackend.activity).
    var activity = VulkanActivity()

    /// Released buffers kept for reuse, at most this many bytes (the rest are destroyed).
    static let poolLimitBytes: UInt64 = 1 << 30
    /// Staged uploads (weights at load) held before the recorded copies are run.
    static let stagingLimitBytes: UInt64 = 64 << 20

    struct PoolKey: Hashable {
        var host: Bool
        var bytes: UInt64
    }

    init(loaderPath: String, deviceIndex: Int) throws {
        var error = [CChar](repeating: 0, count: 512)
        var raw = vkr_device_info()
        guard let handle = vkr_context_create(loaderPath, Int32(clamping: deviceIndex), &raw, &error, error.count) else {
            throw VulkanError(String(cString: error))
        }
        self.handle = handle
        device = VulkanDeviceInfo(index: deviceIndex, raw)
    }

    deinit {
        // Work recorded and never submitted is discarded with the command pool.
        for p in pipelines.values { vkr_pipeline_destroy(handle, p) }
        for list in free.values { for b in list { vkr_buffer_destroy(handle, b) } }
        for b in retiring { vkr_buffer_destroy(handle, b) }
        for (_, b) in inFlightHost { vkr_buffer_destroy(handle, b) }
        vkr_context_destroy(handle)
    }

    /// Stops with the failing call's message: a kernel launch failing mid-forward (device
    /// lost, out of device memory) leaves nothing to recover to.
    func check(_ status: Int32, _ error: [CChar]) {
        if status != 0 { fatalError("vulkan (\(device.name)): \(String(cString: error))") }
    }

    // MARK: - Buffers

    /// Size classes 2^k and 1.5 * 2^k (at most a third wasted) so maps of other sizes reuse buffers.
    static func sizeClass(_ bytes: UInt64) -> UInt64 {
        let b = max(bytes, 256)
        var power: UInt64 = 256
        while power < b {
            if power + power / 2 >= b { return power + power / 2 }
            power *= 2
        }
        return power
    }

    private func take(_ key: PoolKey) -> OpaquePointer {
        if var list = free[key], let b = list.popLast() {
            free[key] = list
            cachedBytes -= key.bytes
            return b
        }
        var error = [CChar](repeating: 0, count: 512)
        if let b = vkr_buffer_create(handle, key.bytes, key.host ? 1 : 0, &error, error.count) { return b }
        // Out of memory: give the pool's buffers back once (after the recorded work), then retry.
        submit()
        for list in free.values { for b in list { vkr_buffer_destroy(handle, b) } }
        free = [:]
        cachedBytes = 0
        guard let b = vkr_buffer_create(handle, key.bytes, key.host ? 1 : 0, &error, error.count) else {
            fatalError("vulkan (\(device.name)): \(String(cString: error))")
        }
        return b
    }

    private func give(_ key: PoolKey, _ buffer: OpaquePointer) {
        if cachedBytes + key.bytes <= Self.poolLimitBytes {
            free[key, default: []].append(buffer)
            cachedBytes += key.bytes
        } else {
            retiring.append(buffer)
        }
    }

    /// A device buffer of at least `floats` floats (contents undefined).
    func deviceBuffer(floats: Int) -> VulkanBuffer {
        let bytes = UInt64(max(floats, 1) * MemoryLayout<Float>.stride)
        precondition(bytes <= device.maxStorageBufferBytes,
                     "vulkan: a tensor of \(floats) floats exceeds \(device.name)'s largest storage buffer (\(device.maxStorageBufferBytes) bytes)")
        // A size class above the device's binding limit would not bind whole: use the limit.
        let key = PoolKey(host: false, bytes: min(Self.sizeClass(bytes), max(bytes, device.maxStorageBufferBytes)))
        lock.lock(); defer { lock.unlock() }
        return VulkanBuffer(handle: take(key), bytes: key.bytes, context: self)
    }

    /// Called by a VulkanBuffer's deinit.
    func release(_ buffer: OpaquePointer, bytes: UInt64) {
        lock.lock(); defer { lock.unlock() }
        give(PoolKey(host: false, bytes: bytes), buffer)
    }

    /// A host-visible buffer holding `bytes`, readable by recorded work until the next submit.
    func hostBuffer(copying bytes: UnsafeRawBufferPointer) -> OpaquePointer {
        let buffer = hostBuffer(bytes: bytes.count)
        if bytes.count > 0 { vkr_buffer_host(buffer)!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        return buffer
    }

    /// A host-visible buffer of `bytes` bytes, held until the next submit has finished.
    func hostBuffer(bytes: Int) -> OpaquePointer {
        let key = PoolKey(host: true, bytes: Self.sizeClass(UInt64(max(bytes, 4))))
        let buffer = take(key)
        inFlightHost.append((key, buffer))
        inFlightHostBytes += key.bytes
        return buffer
    }

    /// Records a copy of `values` into `buffer` through a staging buffer.
    func upload(_ values: UnsafeRawBufferPointer, into buffer: VulkanBuffer) {
        if inFlightHostBytes > Self.stagingLimitBytes { submit() }
        activity.uploads += 1
        activity.uploadedBytes += values.count
        let staging = hostBuffer(copying: values)
        copy(from: staging, to: buffer.handle, regions: [(0, 0, UInt64(values.count))])
    }

    /// Runs the recorded work (and everything before it), then copies `count` floats of `buffer` to `destination`.
    func read(_ buffer: VulkanBuffer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        let bytes = count * MemoryLayout<Float>.stride
        let staging = hostBuffer(bytes: bytes)
        copy(from: buffer.handle, to: staging, regions: [(0, 0, UInt64(bytes))])
        submit()
        if bytes > 0 { UnsafeMutableRawPointer(destination).copyMemory(from: vkr_buffer_host(staging)!, byteCount: bytes) }
    }

    // MARK: - Recording

    func pipeline(_ kernel: VulkanKernel) -> OpaquePointer {
        if let p = pipelines[kernel] { return p }
        guard let spirv = vulkan_kernel_named(kernel.rawValue) else {
            fatalError("vulkan: kernel \(kernel.rawValue) is not embedded (run Kernels/Vulkan/compile.sh)")
        }
        var error = [CChar](repeating: 0, count: 512)
        guard let p = vkr_pipeline_create(handle, spirv.pointee.words, spirv.pointee.bytes, kernel.bindings,
                                          UInt32(kernel.pushWords * 4), &error, error.count) else {
            fatalError("vulkan (\(device.name)): kernel \(kernel.rawValue): \(String(cString: error))")
        }
        pipelines[kernel] = p
        return p
    }

    /// Records `kernel` over `groups` workgroups with `buffers` at bindings 0... and `push` as
    /// its push constants (Int32 bit patterns and Float bit patterns, the kernel's order).
    func dispatch(_ kernel: VulkanKernel, _ buffers: [OpaquePointer], push: [UInt32], groups: (Int, Int, Int)) {
        precondition(push.count == kernel.pushWords, "\(kernel.rawValue): \(push.count) push words, expected \(kernel.pushWords)")
        let p = pipeline(kernel)
        var error = [CChar](repeating: 0, count: 512)
        let status = buffers.map(Optional.some).withUnsafeBufferPointer { b in
            push.withUnsafeBytes { bytes in
                vkr_record_dispatch(handle, p, b.baseAddress, UInt32(b.count), bytes.baseAddress, UInt32(bytes.count),
                                    UInt32(groups.0), UInt32(groups.1), UInt32(groups.2), &error, error.count)
            }
        }
        check(status, error)
        activity.dispatches += 1
    }

    /// Records byte-range copies (source offset, destination offset, size).
    func copy(from source: OpaquePointer, to destination: OpaquePointer, regions: [(UInt64, UInt64, UInt64)]) {
        var error = [CChar](repeating: 0, count: 512)
        let status = vkr_record_copy(handle, source, destination, UInt32(regions.count), regions.map(\.0),
                                     regions.map(\.1), regions.map(\.2), &error, error.count)
        check(status, error)
    }

    /// Runs everything recorded and waits; then in-flight host buffers return to the pool
    /// and retired buffers are destroyed.
    func submit() {
        var error = [CChar](repeating: 0, count: 512)
        if vkr_recorded_count(handle) > 0 { activity.submits += 1 }
        check(vkr_submit_and_wait(handle, &error, error.count), error)
        for (key, b) in inFlightHost { give(key, b) }
        inFlightHost = []
        inFlightHostBytes = 0
        for b in retiring { vkr_buffer_destroy(handle, b) }
        retiring = []
    }
}

/// A tensor's elements in device memory; returns to its context's pool when the last
/// tensor sharing it goes away.
final class VulkanBuffer: DeviceBuffer, @unchecked Sendable {
    let handle: OpaquePointer
    let bytes: UInt64
    let context: VulkanContext

    init(handle: OpaquePointer, bytes: UInt64, context: VulkanContext) {
        self.handle = handle
        self.bytes = bytes
        self.context = context
    }

    var deviceName: String { "vulkan: \(context.device.name)" }

    deinit { context.release(handle, bytes: bytes) }
}
