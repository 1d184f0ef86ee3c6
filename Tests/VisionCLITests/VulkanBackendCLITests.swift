// `--backend vulkan` end to end through the `vision` binary: with no Vulkan loader
// (VISION_VULKAN_LOADER pointed at a missing file) predict and devices fail with one
// line naming what is missing while the CPU path still works; with a Vulkan device
// (lavapipe in CI) `vision devices` lists it and predict on it gives the CPU's detections.

import Foundation
import XCTest

final class VulkanBackendCLITests: XCTestCase {
    static let image = CLI.fixtureModels.appendingPathComponent("pets.png").path

    func scratch() throws -> URL { try CLI.temporaryDirectory("vulkan") }

    /// Non-empty lines of `text`.
    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }

    func testWithoutAVulkanLoaderVulkanFailsInOneLineAndCPUWorks() throws {
        let scratch = try scratch()
        var env = CLI.environment(home: scratch)
        let missing = scratch.appendingPathComponent("no-such-libvulkan.so.1").path
        env["VISION_VULKAN_LOADER"] = missing
        let vulkan = try CLI.run(["predict", "--backend", "vulkan", Self.image, "--quiet"] + CLI.modelArguments,
                                 environment: env, scratch: scratch)
        XCTAssertNotEqual(vulkan.status, 0, "predict --backend vulkan without a loader must fail")
        XCTAssertEqual(lines(vulkan.stderr).count, 1, "one line: \(vulkan.stderr)")
        XCTAssertTrue(vulkan.stderr.hasPrefix("Error: vulkan backend unavailable: cannot load the Vulkan loader \(missing)"),
                      vulkan.stderr)
        XCTAssertEqual(vulkan.stdout, "", "nothing predicted")

        let devices = try CLI.run(["devices"], environment: env, scratch: scratch)
        XCTAssertNotEqual(devices.status, 0)
        XCTAssertEqual(lines(devices.stderr).count, 1, devices.stderr)
        XCTAssertTrue(devices.stderr.contains("cannot load the Vulkan loader \(missing)"), devices.stderr)

        let cpu = try CLI.run(["predict", "--backend", "cpu", Self.image, "--quiet", "--min-prob", "0"] + CLI.modelArguments,
                              environment: env, scratch: scratch)
        XCTAssertEqual(cpu.status, 0, cpu.stderr)
        let records = try CLI.records(cpu.stdout)
        XCTAssertEqual(records.map(\.file), [Self.image])
        XCTAssertFalse((records.first?.object["objects"] as? [Any] ?? []).isEmpty, "the CPU backend still detects")
    }

    func testDeviceNeedsTheVulkanBackend() throws {
        let scratch = try scratch()
        let result = try CLI.run(["predict", "--device", "1", Self.image] + CLI.modelArguments,
                                 environment: CLI.environment(home: scratch), scratch: scratch)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--device needs --backend vulkan"), result.stderr)
    }

    func testVulkanPredictMatchesCPUAndDevicesListsIt() throws {
        let scratch = try scratch()
        let env = CLI.environment(home: scratch)
        let devices = try CLI.run(["devices"], environment: env, scratch: scratch)
        guard devices.status == 0 else {
            if ProcessInfo.processInfo.environment["VISION_REQUIRE_VULKAN"] == "1" {
                XCTFail("VISION_REQUIRE_VULKAN=1 but `vision devices` failed: \(devices.stderr)")
            }
            throw XCTSkip("no Vulkan device on this machine: \(devices.stderr)")
        }
        XCTAssertTrue(devices.stdout.hasPrefix("0: "), devices.stdout)
        XCTAssertTrue(devices.stdout.contains("workgroup size"), devices.stdout)
        let json = try CLI.run(["devices", "--json"], environment: env, scratch: scratch)
        let first = try XCTUnwrap(json.stdout.split(separator: "\n").first)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        XCTAssertEqual(object["index"] as? Int, 0)
        XCTAssertGreaterThan(object["max_storage_buffer_bytes"] as? Int ?? 0, 0)

        let count = lines(devices.stdout).filter { $0.first?.isNumber == true }.count
        let outOfRange = try CLI.run(["predict", "--backend", "vulkan", "--device", "\(count)", Self.image] + CLI.modelArguments,
                                     environment: env, scratch: scratch)
        XCTAssertNotEqual(outOfRange.status, 0)
        XCTAssertTrue(outOfRange.stderr.contains("no Vulkan device \(count)"), outOfRange.stderr)

        func objects(_ backend: String) throws -> [[String: Any]] {
            let r = try CLI.run(["predict", "--backend", backend, Self.image, "--quiet", "--min-prob", "0.05"] + CLI.modelArguments,
                                environment: env, scratch: scratch)
            XCTAssertEqual(r.status, 0, r.stderr)
            return try CLI.records(r.stdout).first?.object["objects"] as? [[String: Any]] ?? []
        }
        let cpu = try objects("cpu"), vulkan = try objects("vulkan")
        XCTAssertFalse(cpu.isEmpty)
        XCTAssertEqual(vulkan.count, cpu.count, "same number of objects")
        // Same order (prob descending) up to near-ties; each CPU object has its Vulkan twin.
        for c in cpu {
            let box = c["bbox"] as? [Double] ?? []
            let twin = vulkan.first { v in
                v["label_id"] as? Int == c["label_id"] as? Int
                    && abs((v["prob"] as? Double ?? -1) - (c["prob"] as? Double ?? 1)) <= 1e-3
                    && zip(v["bbox"] as? [Double] ?? [], box).allSatisfy { abs($0 - $1) <= 0.5 }
            }
            XCTAssertNotNil(twin, "no Vulkan detection matches the CPU's \(c)")
        }
    }
}
