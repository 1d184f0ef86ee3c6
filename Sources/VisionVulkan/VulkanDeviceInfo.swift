// A Vulkan physical device and the limits that matter to compute kernels, as
// `vision devices` lists them.

import CVulkan

public struct VulkanDeviceInfo: Sendable, Hashable {
    /// Position in the loader's device list: the value of --device.
    public var index: Int
    public var name: String
    /// "discrete GPU", "integrated GPU", "virtual GPU", "CPU" or "other".
    public var kind: String
    /// The Vulkan version the driver supports ("1.3.230").
    public var apiVersion: String
    public var vendorID: UInt32
    public var deviceID: UInt32
    public var maxWorkgroupSize: [Int]
    public var maxWorkgroupInvocations: Int
    public var maxWorkgroupCount: [Int]
    public var maxSharedMemoryBytes: Int
    public var maxPushConstantBytes: Int
    /// The largest storage buffer a kernel may bind: the largest tensor this backend can hold.
    public var maxStorageBufferBytes: UInt64
    /// Sum of the device-local memory heaps.
    public var deviceLocalBytes: UInt64
    /// Whether a queue family runs compute work (the backend needs one).
    public var hasComputeQueue: Bool

    init(index: Int, _ raw: vkr_device_info) {
        self.index = index
        var copy = raw
        name = withUnsafeBytes(of: &copy.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        kind = ["other", "integrated GPU", "discrete GPU", "virtual GPU", "CPU"][Int(min(raw.device_type, 4))]
        // VK_API_VERSION_MAJOR/MINOR/PATCH.
        apiVersion = "\((raw.api_version >> 22) & 0x7f).\((raw.api_version >> 12) & 0x3ff).\(raw.api_version & 0xfff)"
        vendorID = raw.vendor_id
        deviceID = raw.device_id
        maxWorkgroupSize = [raw.max_workgroup_size.0, raw.max_workgroup_size.1, raw.max_workgroup_size.2].map(Int.init)
        maxWorkgroupInvocations = Int(raw.max_workgroup_invocations)
        maxWorkgroupCount = [raw.max_workgroup_count.0, raw.max_workgroup_count.1, raw.max_workgroup_count.2].map(Int.init)
        maxSharedMemoryBytes = Int(raw.max_shared_memory_bytes)
        maxPushConstantBytes = Int(raw.max_push_constant_bytes)
        maxStorageBufferBytes = raw.max_storage_buffer_range
        deviceLocalBytes = raw.device_local_bytes
        hasComputeQueue = raw.has_compute_queue != 0
    }
}
