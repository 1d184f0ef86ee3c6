import Foundation
import VisionCore
import VisionImaging
import XCTest

final class ResizeTests: XCTestCase {
    /// The generator's deterministic input (see hash_tensor in generate_images.py).
    private func hashTensor(shape: [Int], seed: Int) -> Tensor {
        let count = Tensor.elementCount(shape)
        let values = (0..<count).map { i -> Float in
            var h = UInt32(truncatingIfNeeded: i) &* 2_654_435_761 &+ UInt32(seed * 40503)
            h ^= h >> 15
            h = h &* 2_246_822_519
            h ^= h >> 13
            return Float(h >> 8) / 16_777_216
        }
        return Tensor(shape: shape, values: values)
    }

    func testDetectionResizeSizeFollowsTorchvision() {
        XCTAssertTrue(detectionResizeSize(height: 480, width: 640, minSize: 800, maxSize: 1333) == (800, 1066))
        XCTAssertTrue(detectionResizeSize(height: 480, width: 640, minSize: 320, maxSize: 640) == (320, 426))
        // The max-size bound wins for very wide images.
        XCTAssertTrue(detectionResizeSize(height: 100, width: 1000, minSize: 800, maxSize: 1333) == (133, 1333))
        XCTAssertTrue(detectionResizeSize(height: 720, width: 1280, minSize: 800, maxSize: 1333) == (749, 1333))
        XCTAssertTrue(detectionResizeSize(height: 800, width: 800, minSize: 800, maxSize: 1333) == (800, 800))
    }

    func testMatchesTorchInterpolate() throws {
        let cases = try Fixtures.json([ResizeCase].self, "resize.json")
        XCTAssertGreaterThanOrEqual(cases.count, 7)
        for item in cases {
            let outHeight = item.outputShape[item.outputShape.count - 2]
            let outWidth = item.outputShape[item.outputShape.count - 1]
            if let minSize = item.minSize, let maxSize = item.maxSize {
                let size = detectionResizeSize(height: item.inputShape[1], width: item.inputShape[2],
                                               minSize: minSize, maxSize: maxSize)
                XCTAssertTrue(size == (outHeight, outWidth), "\(item.name): rule gave \(size)")
            }
            let input: Tensor
            if let file = item.input {
                input = try Fixtures.tensor("resize/\(file)", shape: item.inputShape)
            } else {
                input = hashTensor(shape: item.inputShape, seed: item.hashSeed!)
            }
            let start = Date()
            let output = resizeBilinear(input, height: outHeight, width: outWidth)
            let milliseconds = Date().timeIntervalSince(start) * 1000
            XCTAssertEqual(output.shape, item.outputShape, item.name)

            var maxDifference: Float = 0
            if let file = item.output {
                let expected = try Fixtures.tensor("resize/\(file)", shape: item.outputShape)
                for i in 0..<expected.count { maxDifference = max(maxDifference, abs(output[flat: i] - expected[flat: i])) }
            }
            for sample in item.samples ?? [] {
                maxDifference = max(maxDifference, abs(output[flat: Int(sample[0])] - Float(sample[1])))
            }
            var meanDifference = 0.0
            if let expectedMean = item.outputMean {
                let mean = output.withUnsafeBufferPointer { $0.reduce(0.0) { $0 + Double($1) } } / Double(output.count)
                meanDifference = abs(mean - expectedMean)
                XCTAssertLessThan(meanDifference, 1e-6, item.name)
            }
            print("resize \(item.name) \(item.inputShape) -> \(item.outputShape): max abs diff \(maxDifference), "
                  + "mean diff \(meanDifference), \(String(format: "%.2f", milliseconds)) ms")
            XCTAssertLessThanOrEqual(maxDifference, 1e-5, item.name)
        }
    }

    /// Prints the best of 5 for the common 480x640 -> 800x1066 detection resize.
    func testResizeSpeed() {
        let x = hashTensor(shape: [1, 3, 480, 640], seed: 1)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = Date()
            let y = resizeBilinear(x, height: 800, width: 1066)
            best = min(best, Date().timeIntervalSince(start))
            XCTAssertEqual(y.shape, [1, 3, 800, 1066])
        }
        print("resizeBilinear [1,3,480,640] -> 800x1066: best of 5 \(String(format: "%.2f", best * 1000)) ms")
        XCTAssertLessThan(best, 1.0)
    }

    func testIdentitySizeCopiesExactly() {
        let x = hashTensor(shape: [3, 17, 23], seed: 3)
        let y = resizeBilinear(x, height: 17, width: 23)
        XCTAssertEqual(y.values, x.values)
    }
}
