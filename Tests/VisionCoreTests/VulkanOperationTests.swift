// The Vulkan backend's other kernels against the CPU backend: pooling, upsample,
// element-wise with every fused activation, softmax, concat, top-k, the RPN's anchor
// order and gather, and RoIAlign over several levels (aligned or not, fixed and adaptive
// sampling, RoIs partly outside the map, RoIs of no level).

import VisionCore
import VisionVulkan
import XCTest

final class VulkanOperationTests: XCTestCase {
    let cpu = CPUBackend(threads: .single)

    func device(_ vulkan: VulkanBackend, _ t: Tensor) -> Tensor { vulkan.upload(t) }
    func host(_ vulkan: VulkanBackend, _ t: Tensor) -> Tensor {
        XCTAssertTrue(t.isOnDevice, "result stays on the device until read back")
        return vulkan.readBack(t, at: .trace)
    }

    func testPoolingAndUpsample() throws {
        let v = try vulkanBackendOrSkip()
        for (kernel, stride, padding, shape) in [(3, 2, 1, [2, 3, 11, 14]), (1, 2, 0, [1, 4, 9, 7]), (3, 2, 1, [1, 2, 8, 8]),
                                                 (2, 2, 0, [1, 1, 5, 5])] {
            let input = randomTensor(shape, seed: UInt64(shape.reduce(0, +)))
            assertClose(host(v, v.maxPool2d(device(v, input), kernel: kernel, stride: stride, padding: padding)),
                        cpu.maxPool2d(input, kernel: kernel, stride: stride, padding: padding), tolerance: 0,
                        "vulkan maxpool k\(kernel) s\(stride) p\(padding) \(shape)")
        }
        let negative = Tensor(shape: [1, 1, 2, 2], values: [-4, -3, -2, -1])
        XCTAssertEqual(host(v, v.maxPool2d(device(v, negative), kernel: 3, stride: 2, padding: 1)).values, [-1])
        for shape in [[2, 3, 40, 50], [1, 5, 1, 1], [3, 2, 17, 300]] {
            let input = randomTensor(shape, seed: 41)
            assertClose(host(v, v.globalAveragePool(device(v, input))), cpu.globalAveragePool(input),
                        "vulkan globalAveragePool \(shape)")
        }
        // Equal, doubled and arbitrary ratios, both directions, non-square.
        for (inH, inW, outH, outW) in [(5, 7, 7, 5), (13, 13, 25, 26), (3, 10, 8, 3), (6, 4, 6, 4), (25, 34, 50, 68)] {
            let input = randomTensor([2, 3, inH, inW], seed: UInt64(inH * 100 + outW))
            assertClose(host(v, v.upsampleNearest(device(v, input), height: outH, width: outW)),
                        cpu.upsampleNearest(input, height: outH, width: outW), tolerance: 0,
                        "vulkan upsample \(inH)x\(inW)->\(outH)x\(outW)")
        }
    }

    func testElementwiseWithEveryActivation() throws {
        let v = try vulkanBackendOrSkip()
        let a = randomTensor([2, 3, 40, 50], seed: 61, scale: 8), b = randomTensor([2, 3, 40, 50], seed: 62, scale: 8)
        let da = device(v, a), db = device(v, b)
        for activation in allActivations {
            assertClose(host(v, v.add(da, db, activation: activation)), cpu.add(a, b, activation: activation),
                        "vulkan add+\(activation)")
            assertClose(host(v, v.activate(da, activation)), cpu.activate(a, activation), "vulkan activate \(activation)")
        }
        assertClose(host(v, v.multiply(da, db)), cpu.multiply(a, b), "vulkan multiply")
        let scale = randomTensor([2, 3, 1, 1], seed: 63)
        assertClose(host(v, v.scaleChannels(da, by: device(v, scale))), cpu.scaleChannels(a, by: scale), "vulkan scaleChannels")
    }

    func testSoftmaxConcatAndTopK() throws {
        let v = try vulkanBackendOrSkip()
        for (shape, scale) in [([7, 91], Float(20)), ([1000, 3], 5), ([2, 3, 5], 1)] {
            let input = randomTensor(shape, seed: 5, scale: scale)
            assertClose(host(v, v.softmax(device(v, input))), cpu.softmax(input), "vulkan softmax \(shape)")
        }
        let huge = Tensor(shape: [1, 3], values: [1000, 1000, 999])
        assertClose(host(v, v.softmax(device(v, huge))), cpu.softmax(huge), "vulkan softmax of large logits")

        let a = randomTensor([2, 1, 3, 4], seed: 71), b = randomTensor([2, 5, 3, 4], seed: 72)
        for axis in [1, -3] {
            assertClose(host(v, v.concat([device(v, a), device(v, b)], axis: axis)), cpu.concat([a, b], axis: axis),
                        tolerance: 0, "vulkan concat axis \(axis)")
        }
        assertClose(host(v, v.concat([device(v, a), device(v, a)], axis: 0)), cpu.concat([a, a], axis: 0), tolerance: 0,
                    "vulkan concat axis 0")
        assertClose(host(v, v.concat([device(v, b), device(v, b), device(v, b)], axis: 3)), cpu.concat([b, b, b], axis: 3),
                    tolerance: 0, "vulkan concat last axis")

        let many = Tensor(shape: [5000], values: (0..<5000).map { Float(($0 * 7919) % 97) })
        let got = v.topK(device(v, many), k: 300), expected = cpu.topK(many, k: 300)
        XCTAssertEqual(got.indices, expected.indices)
        XCTAssertEqual(got.values, expected.values)
    }

    func testAnchorOrderAndGather() throws {
        let v = try vulkanBackendOrSkip()
        for (n, a, vals, h, w) in [(2, 3, 4, 5, 7), (1, 1, 1, 1, 1), (3, 15, 1, 2, 9)] {
            let input = randomTensor([n, a * vals, h, w], seed: UInt64(n * 31 + a))
            let onDevice = device(v, input)
            for image in 0..<n {
                assertClose(host(v, v.anchorsLast(onDevice, image: image, valuesPerAnchor: vals)),
                            cpu.anchorsLast(input, image: image, valuesPerAnchor: vals), tolerance: 0,
                            "vulkan anchorsLast \([n, a * vals, h, w]) image \(image)")
                let rows = [h * w * a - 1, 0, (h * w * a) / 2, 0]
                assertClose(host(v, v.gatherAnchors(onDevice, image: image, valuesPerAnchor: vals, rows: rows)),
                            cpu.gatherAnchors(input, image: image, valuesPerAnchor: vals, rows: rows), tolerance: 0,
                            "vulkan gatherAnchors image \(image)")
            }
        }
    }

    func testRoIAlignOverLevels() throws {
        let v = try vulkanBackendOrSkip()
        // Two images, 5 channels, three levels of strides 4, 8, 16 over a 64 x 80 image.
        let maps = [[2, 5, 16, 20], [2, 5, 8, 10], [2, 5, 4, 5]].enumerated().map { randomTensor($1, seed: UInt64(80 + $0)) }
        let boxes: [Float] = [
            3, 4, 40, 30,        // inside
            -10, -6, 20, 90,     // partly outside
            50, 10, 52.5, 11,    // smaller than a pixel
            0, 0, 80, 64,        // the whole image
            30.2, 17.7, 63.9, 61.1,
            5, 5, 5, 5,          // empty
        ]
        let batch = [0, 1, 1, 0, 1, 0]
        for (aligned, sampling, levels) in [(true, 2, [0, 1, 2, 2, -1, 0] as [Int]?), (false, 0, [2, 0, 1, 0, 1, 1]),
                                            (true, 0, nil)] {
            let request = RoIAlignRequest(boxes: boxes, batchIndices: batch, levels: levels,
                                          spatialScales: levels == nil ? [0.25] : [0.25, 0.125, 0.0625],
                                          outputHeight: 7, outputWidth: 6, samplingRatio: sampling, aligned: aligned)
            let features = levels == nil ? [maps[0]] : maps
            assertClose(host(v, v.roiAlign(features.map { device(v, $0) }, request)), cpu.roiAlign(features, request),
                        "vulkan roiAlign aligned \(aligned) sampling \(sampling) levels \(levels.map(\.description) ?? "nil")")
        }
    }
}
