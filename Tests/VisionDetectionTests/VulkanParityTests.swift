// Every fixture architecture on the Vulkan backend against torchvision's recorded
// features, proposals and detections, by FasterRCNNParityTests' criteria (features
// within 1e-4, proposals IoU >= 0.99, detections: same label, IoU >= 0.99,
// |prob diff| <= 1e-3, no extra). On lavapipe where there is no GPU; skipped only
// when the machine has no Vulkan device (a failure instead with VISION_REQUIRE_VULKAN=1).

import Foundation
import VisionCore
import VisionVulkan
import XCTest

final class VulkanParityTests: XCTestCase {
    static let shared: Result<VulkanBackend?, Error> = Result { try VulkanBackend.openIfPresent() }

    func vulkan() throws -> VulkanBackend {
        if let backend = try Self.shared.get() { return backend }
        let message = "no Vulkan device on this machine (install mesa-vulkan-drivers and libvulkan1 for lavapipe)"
        if ProcessInfo.processInfo.environment["VISION_REQUIRE_VULKAN"] == "1" { XCTFail("VISION_REQUIRE_VULKAN=1 but \(message)") }
        throw XCTSkip(message)
    }

    func testResNet50FPN() throws { try FasterRCNNParityTests.runParity("fasterrcnn_resnet50_fpn", backend: vulkan()) }
    func testResNet50FPNv2() throws { try FasterRCNNParityTests.runParity("fasterrcnn_resnet50_fpn_v2", backend: vulkan()) }
    func testMobileNetV3LargeFPN() throws {
        try FasterRCNNParityTests.runParity("fasterrcnn_mobilenet_v3_large_fpn", backend: vulkan())
    }
    func testMobileNetV3Large320FPN() throws {
        try FasterRCNNParityTests.runParity("fasterrcnn_mobilenet_v3_large_320_fpn", backend: vulkan())
    }
    func testMobileNetV2FPN() throws { try FasterRCNNParityTests.runParity("fasterrcnn_mobilenet_v2_fpn", backend: vulkan()) }
}
