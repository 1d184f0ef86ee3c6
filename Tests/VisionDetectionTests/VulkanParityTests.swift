// Every fixture architecture on the Vulkan backend against torchvision's recorded
// features, proposals and detections, by FasterRCNNParityTests' criteria (features
// within 1e-4, proposals IoU >= 0.99, detections: same label, IoU >= 0.99,
// |prob diff| <= 1e-3, no extra). On lavapipe where there is no GPU; skipped only
// when the machine has no Vulkan device (a failure instead with VISION_REQUIRE_VULKAN=1).

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionImaging
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

    /// Weights go up once, at load; per detect the host sends only the image batch and reads
    /// only at the named points (the RPN's top-k scores and deltas, the box head's two
    /// predictions), and the recorded work runs in a few submits, not one per operation.
    func testFeatureMapsStayOnTheDeviceBetweenNamedReadBacks() throws {
        let dir = FasterRCNNParityTests.fixtures, arch = "fasterrcnn_mobilenet_v3_large_fpn"
        let backend = try VulkanBackend(device: try vulkan().device.index)
        let config = try ModelConfig.load(file: dir.appendingPathComponent("\(arch).json"))
        let (state, _) = try loadStateDict(from: dir.appendingPathComponent("\(arch).safetensors"))
        let model = try FasterRCNN(config: config, stateDict: state, source: arch, backend: backend)
        let image = try ImageDecoder.decode(contentsOf: dir.appendingPathComponent("pets.png")).toTensor()
        let loaded = backend.activity
        XCTAssertGreaterThan(loaded.uploads, 50, "every conv's weights uploaded at load")
        XCTAssertEqual(loaded.dispatches, 0, "nothing computed at load")
        for round in 1...2 {
            let before = backend.activity
            XCTAssertFalse(model.detect([image])[0].scores.isEmpty)
            let after = backend.activity
            XCTAssertEqual(after.uploads - before.uploads, 1, "round \(round): only the image batch goes up")
            XCTAssertEqual(Set(after.readBacks.keys), [.rpnPredictions, .boxPredictions], "round \(round)")
            XCTAssertEqual((after.readBacks[.boxPredictions] ?? 0) - (before.readBacks[.boxPredictions] ?? 0), 2)
            let readBacks = after.readBacks.values.reduce(0, +) - before.readBacks.values.reduce(0, +)
            let dispatches = after.dispatches - before.dispatches, submits = after.submits - before.submits
            print("\(arch) on \(backend.device.name), round \(round): \(dispatches) kernel launches in \(submits) submits, "
                  + "\(readBacks) read-backs")
            XCTAssertLessThanOrEqual(submits, readBacks, "a submit only where the host needs values")
            XCTAssertGreaterThan(dispatches, 4 * submits)
        }
    }
}
