// roiAlign and MultiScaleRoIAlign against torchvision (max abs diff <= 1e-5).

import Foundation
import XCTest
import VisionCore
import VisionDetection

final class OpsTestsRoIAlign: XCTestCase {
    private func tensor(_ fx: DetOpsFixtures, _ name: String) throws -> Tensor {
        let a = try fx.array(name)
        return Tensor(shape: a.shape, values: a.values)
    }

    private func check(_ got: Tensor, _ expected: (values: [Float], shape: [Int]), _ name: String) {
        XCTAssertEqual(got.shape, expected.shape, name)
        guard got.shape == expected.shape else { return }
        let diff = maxDifferences(got.values, expected.values)
        print("\(name): shape \(got.shape), max abs diff \(diff.absolute)")
        XCTAssertLessThanOrEqual(diff.absolute, 1e-5, name)
        XCTAssertTrue(expected.values.contains { $0 != 0 }, "\(name): fixture is all zeros")
    }

    func testRoIAlignMatchesTorchvision() throws {
        let fx = try DetOpsFixtures.load()
        let features = try tensor(fx, "roialign_features")
        let rois = try fx.array("roialign_rois").values  // [K, 5]: batch index, x1, y1, x2, y2
        let k = rois.count / 5
        let batch = (0..<k).map { Int(rois[$0 * 5]) }
        let boxes = Boxes(coordinates: (0..<k).flatMap { rois[($0 * 5 + 1)..<($0 * 5 + 5)] })
        let scale = Float((try fx.param("roialign"))["spatial_scale"] as! Double)

        let out = roiAlign(features: features, boxes: boxes, batchIndices: batch,
                           spatialScale: scale, samplingRatio: 2, threads: .allCores)
        check(out, try fx.array("roialign_out"), "roi_align 7x7 sr2")
        let fromRows = roiAlign(features: features, rois: Tensor(shape: [k, 5], values: rois),
                                spatialScale: scale, samplingRatio: 2, threads: .allCores)
        XCTAssertEqual(fromRows.values, out.values, "roiAlign(rois: [K, 5]) must equal roiAlign(boxes:batchIndices:)")

        let first = Array(0..<30)
        let adaptive = roiAlign(features: features, boxes: boxes.selecting(first), batchIndices: Array(batch[0..<30]),
                                outputHeight: 5, outputWidth: 4, spatialScale: scale, samplingRatio: 0, aligned: true, threads: .allCores)
        check(adaptive, try fx.array("roialign_out_aligned_adaptive"), "roi_align 5x4 adaptive aligned")
    }

    func testMultiScaleRoIAlignMatchesTorchvision() throws {
        let fx = try DetOpsFixtures.load()
        for name in ["msroi_resnet", "msroi_mobilenet"] {
            let params = try fx.param(name)
            let features = try (0..<(params["levels"] as! Int)).map { try tensor(fx, "\(name)_feature\($0)") }
            let sizes = (params["image_sizes"] as! [[Int]]).map { (height: $0[0], width: $0[1]) }
            let boxes = try sizes.indices.map { Boxes(coordinates: try fx.array("\(name)_boxes\($0)").values) }
            let pooler = MultiScaleRoIAlign()

            let setup = pooler.setup(featureHeights: features.map { $0.shape[2] }, imageSizes: sizes)
            XCTAssertEqual(setup.scales, (params["scales"] as! [Double]).map { Float($0) }, name)
            XCTAssertEqual(setup.mapper.kMin, params["k_min"] as! Int, name)
            XCTAssertEqual(setup.mapper.kMax, params["k_max"] as! Int, name)

            check(pooler(features: features, boxes: boxes, imageSizes: sizes, backend: CPUBackend()), try fx.array(name + "_out"), name)
        }
    }

    func testLevelMapper() {
        let mapper = LevelMapper(kMin: 2, kMax: 5)
        // sqrt(area) 224 -> level 4 (index 2); 112 -> 3; 448 -> 5; 10 -> clamped to 2; negative area -> -1.
        let boxes = Boxes(coordinates: [0, 0, 224, 224, 0, 0, 112, 112, 0, 0, 448, 448, 0, 0, 10, 10, 0, 0, -5, 5])
        XCTAssertEqual(mapper.levels(boxes), [2, 1, 3, 0, -1])
    }

    func testManyRoIsUseThreadsAndMatchSerialResult() {
        // 1000 RoIs x 16 channels: takes the concurrent path; compare each RoI with a one-RoI call.
        let c = 16, h = 50, w = 68
        let features = Tensor(shape: [1, c, h, w], values: (0..<(c * h * w)).map { Float(($0 * 7919) % 1000) / 1000 })
        var coords: [Float] = []
        for i in 0..<1000 {
            let x = Float(i % 40) * 6, y = Float(i % 23) * 8
            coords += [x, y, x + Float(8 + i % 90), y + Float(8 + i % 70)]
        }
        let boxes = Boxes(coordinates: coords)
        var out = Tensor(shape: [0])
        for run in 0..<2 {
            let start = Date()
            out = roiAlign(features: features, boxes: boxes, batchIndices: Array(repeating: 0, count: 1000),
                           spatialScale: 0.25, samplingRatio: 2, threads: .allCores)
            print("roiAlign 1000 RoIs x \(c) ch, run \(run): \(String(format: "%.1f", Date().timeIntervalSince(start) * 1000)) ms")
        }
        let per = c * 49
        var maxDiff: Float = 0
        for r in stride(from: 0, to: 1000, by: 97) {
            let one = roiAlign(features: features, boxes: boxes.selecting([r]), batchIndices: [0],
                               spatialScale: 0.25, samplingRatio: 2, threads: .allCores).values
            for j in 0..<per { maxDiff = max(maxDiff, abs(one[j] - out[flat: r * per + j])) }
        }
        print("roiAlign threaded vs single-RoI max abs diff \(maxDiff)")
        XCTAssertEqual(maxDiff, 0)
    }
}
