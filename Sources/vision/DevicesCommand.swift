// `vision devices`: the Vulkan devices --backend vulkan --device N can run on, with the
// limits that matter to its kernels.

import ArgumentParser
import Foundation
import VisionVulkan

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the Vulkan devices --backend vulkan can use (index for --device, limits).",
        discussion: """
            Lists every device the Vulkan loader reports: GPUs of any vendor, and Mesa's lavapipe \
            (a CPU device) where it is installed. Exits non-zero with one line when no Vulkan loader \
            or driver is installed.
            """)

    @Flag(help: "One JSON object per device instead of text.")
    var json = false

    func run() throws {
        let devices = try VulkanBackend.devices(loaderPath: BackendOption.vulkanLoaderPath)
        if devices.isEmpty {
            throw VulkanError("vulkan: the loader found no device (install a driver, e.g. mesa-vulkan-drivers)")
        }
        for d in devices {
            if json {
                let object: [String: Any] = [
                    "index": d.index, "name": d.name, "type": d.kind, "api_version": d.apiVersion,
                    "vendor_id": d.vendorID, "device_id": d.deviceID, "compute_queue": d.hasComputeQueue,
                    "max_workgroup_size": d.maxWorkgroupSize, "max_workgroup_invocations": d.maxWorkgroupInvocations,
                    "max_workgroup_count": d.maxWorkgroupCount, "max_shared_memory_bytes": d.maxSharedMemoryBytes,
                    "max_push_constant_bytes": d.maxPushConstantBytes, "max_storage_buffer_bytes": d.maxStorageBufferBytes,
                    "device_local_bytes": d.deviceLocalBytes,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("\(d.index): \(d.name) (\(d.kind), Vulkan \(d.apiVersion)\(d.hasComputeQueue ? "" : ", no compute queue"))")
                print("   workgroup size \(d.maxWorkgroupSize.map(String.init).joined(separator: " x ")), "
                      + "\(d.maxWorkgroupInvocations) invocations, shared memory \(d.maxSharedMemoryBytes / 1024) KiB, "
                      + "push constants \(d.maxPushConstantBytes) B")
                print("   largest buffer \(mebibytes(d.maxStorageBufferBytes)), device-local memory \(mebibytes(d.deviceLocalBytes))")
            }
        }
    }

    private func mebibytes(_ bytes: UInt64) -> String { "\(bytes >> 20) MiB" }
}
