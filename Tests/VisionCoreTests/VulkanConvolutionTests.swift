// Each Vulkan convolution kernel (direct, depthwise, tiled implicit GEMM) and the linear
// GEMM against the CPU backend, on the CPU kernel tests' odd shapes (Conv2DTests.cases:
// stride 2, padding, dilation 2, groups, depthwise, non-square, batch > 1, 1x1):
// relative error <= 1e-4. Runs on lavapipe where there is no GPU.

import VisionCore
import VisionVulkan
import XCTest

final class VulkanConvolutionTests: XCTestCase {
    let cpu = CPUBackend(threads: .single)

    /// The Vulkan conv on `algorithm` against the CPU backend for one case.
    func compare(_ c: Conv2DTests.Case, algorithm: VulkanConvAlgorithm, activation: Activation, seed: UInt64,
                 on vulkan: VulkanBackend) {
        let cinG = c.input[1] / c.parameters.groups
        let input = randomTensor(c.input, seed: seed)
        let weight = randomTensor([c.cout, cinG, c.kernel.h, c.kernel.w], seed: seed + 1, scale: 0.5)
        let bias = c.bias ? randomTensor([c.cout], seed: seed + 2) : nil
        let expected = cpu.conv2d(input, cpu.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters),
                                  activation: activation)
        let prepared = vulkan.prepareConv2D(weight: weight, bias: bias, parameters: c.parameters)
        let onDevice = vulkan.conv2d(vulkan.upload(input), prepared, activation: activation, algorithm: algorithm)
        XCTAssertTrue(onDevice.isOnDevice, "conv output stays on the device")
        assertClose(vulkan.readBack(onDevice, at: .trace), expected, "vulkan \(algorithm) conv \(c.name) \(activation)")
    }

    func testDirectKernelOnOddShapes() throws {
        let vulkan = try vulkanBackendOrSkip()
        for (i, c) in Conv2DTests.cases.enumerated() {
            compare(c, algorithm: .direct, activation: allActivations[i % allActivations.count], seed: UInt64(100 * i), on: vulkan)
        }
    }

    func testTiledGemmKernelOnOddShapes() throws {
        let vulkan = try vulkanBackendOrSkip()
        for (i, c) in Conv2DTests.cases.enumerated() {
            compare(c, algorithm: .gemm, activation: allActivations[(i + 1) % allActivations.count], seed: UInt64(100 * i + 7),
                    on: vulkan)
        }
    }

    func testDepthwiseKernelOnOddShapes() throws {
        let vulkan = try vulkanBackendOrSkip()
        let depthwise = Conv2DTests.cases.filter { $0.input[1] == $0.parameters.groups && $0.parameters.groups > 1 }
        XCTAssertGreaterThanOrEqual(depthwise.count, 8, "the CPU tests' depthwise cases")
        for (i, c) in depthwise.enumerated() {
            compare(c, algorithm: .depthwise, activation: allActivations[(i + 2) % allActivations.count],
                    seed: UInt64(100 * i + 13), on: vulkan)
        }
    }

    func testAutomaticRoutingWithEveryActivation() throws {
        let vulkan = try vulkanBackendOrSkip()
        let names = ["3x3 s2 p1", "depthwise 3x3 s2", "1x1 s1", "batched 3x3 on 7x7, batch 45"]
        for (i, name) in names.enumerated() {
            guard let c = Conv2DTests.cases.first(where: { $0.name == name }) else { return XCTFail("no case \(name)") }
            for (j, activation) in allActivations.enumerated() {
                compare(c, algorithm: .automatic, activation: activation, seed: UInt64(7000 + 10 * i + j), on: vulkan)
            }
        }
    }

    func testLinearGemmMatchesCPU() throws {
        let vulkan = try vulkanBackendOrSkip()
        // Rows and features off the 64-wide tiles, a 1-row input, and one without bias.
        for (i, (n, inF, outF)) in [(1, 7, 5), (13, 64, 33), (100, 300, 91), (70, 1024, 130)].enumerated() {
            let input = randomTensor([n, inF], seed: UInt64(10 + i))
            let weight = randomTensor([outF, inF], seed: UInt64(20 + i))
            let bias = i == 1 ? nil : randomTensor([outF], seed: UInt64(30 + i))
            let activation = allActivations[(i * 2 + 1) % allActivations.count]
            let expected = cpu.linear(input, cpu.prepareLinear(weight: weight, bias: bias), activation: activation)
            let out = vulkan.linear(vulkan.upload(input), vulkan.prepareLinear(weight: weight, bias: bias), activation: activation)
            assertClose(vulkan.readBack(out, at: .trace), expected, "vulkan linear \(n)x\(inF)->\(outF) \(activation)")
        }
    }
}
