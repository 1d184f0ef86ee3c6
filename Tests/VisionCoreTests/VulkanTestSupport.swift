// The Vulkan backend the kernel tests share (pipelines are compiled once), or a skip
// when this machine has no Vulkan device. With VISION_REQUIRE_VULKAN=1 (CI, which
// installs lavapipe) a missing device fails instead of skipping.

import Foundation
import VisionCore
import VisionVulkan
import XCTest

enum SharedVulkan {
    static let backend: Result<VulkanBackend?, Error> = Result { try VulkanBackend.openIfPresent() }
}

func vulkanBackendOrSkip() throws -> VulkanBackend {
    if let backend = try SharedVulkan.backend.get() { return backend }
    let message = "no Vulkan device on this machine (install mesa-vulkan-drivers and libvulkan1 for lavapipe)"
    if ProcessInfo.processInfo.environment["VISION_REQUIRE_VULKAN"] == "1" {
        XCTFail("VISION_REQUIRE_VULKAN=1 but \(message)")
    }
    throw XCTSkip(message)
}
