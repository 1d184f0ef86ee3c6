import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionImaging
import XCTest

/// Runs the reduced-width models of Tests/Fixtures/generate_model.py and compares
/// backbone/FPN features, RPN proposals and detections with torchvision's.
final class FasterRCNNParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/model")

    struct Expected: Decodable {
        struct Feature: Decodable {
            var group: String, level: String, shape: [Int]
            var sum: Double, absSum: Double
            var sampleOffset: Int, sampleCount: Int, sampleStep: Int
        }
        struct Detection: Decodable { var box: [Float]; var label: Int; var score: Float }
        struct Image: Decodable {
            var file: String, height: Int, width: Int
            var features: [Feature]
            var proposals: [[Float]]
            var detections: [Detection]
        }
        var arch: String, weights: String
        var images: [Image]
    }

    /// Runs `arch`'s fixture on `backend` against torchvision's recorded outputs (static so
    /// other backends' tests, e.g. VulkanParityTests, apply the very same criteria).
    static func runParity(_ arch: String, backend: ComputeBackend = CPUBackend()) throws {
        let dir = Self.fixtures
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: dir.appendingPathComponent("\(arch).expected.json")))
        let config = try ModelConfig.load(file: dir.appendingPathComponent("\(arch).json"))
        let weightsURL = dir.appendingPathComponent(expected.weights)
        let (state, _) = try loadStateDict(from: weightsURL)
        let model = try FasterRCNN(config: config, stateDict: state, source: weightsURL.path, backend: backend)
        let samples = try Data(contentsOf: dir.appendingPathComponent("\(arch).features.bin"))
        let sampleValues: [Float] = samples.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }

        var totalExpected = 0, totalReproduced = 0, totalExtra = 0
        var totalProposals = 0, proposalsMatched = 0
        for image in expected.images {
            let decoded = try ImageDecoder.decode(contentsOf: dir.appendingPathComponent(image.file))
            XCTAssertEqual([decoded.height, decoded.width], [image.height, image.width])
            var trace = FasterRCNN.Trace()
            let detections = model.detect([decoded.toTensor()], trace: &trace)[0]

            // Features: every sampled element within 1e-4 of the level's largest sampled magnitude.
            let levelTensors = ["body": trace.bodyFeatures, "fpn": trace.fpnFeatures]
            for f in image.features {
                let index = f.group == "fpn" && f.level == "pool" ? trace.fpnFeatures.count - 1 : Int(f.level)!
                let t = levelTensors[f.group]![index]
                XCTAssertEqual(t.shape, f.shape, "\(arch) \(image.file) \(f.group) \(f.level) shape")
                guard t.shape == f.shape else { continue }
                let reference = sampleValues[f.sampleOffset..<(f.sampleOffset + f.sampleCount)]
                var maxDiff: Float = 0, maxRef: Float = 0
                for (k, r) in reference.enumerated() {
                    maxDiff = max(maxDiff, abs(t[flat: k * f.sampleStep] - r))
                    maxRef = max(maxRef, abs(r))
                }
                let sum = t.values.reduce(0.0) { $0 + Double($1) }
                let relative = maxDiff / max(maxRef, 1e-12)
                print("\(arch) \(image.file) \(f.group)[\(f.level)] \(f.shape): max rel diff \(relative), sum \(sum) vs \(f.sum)")
                XCTAssertLessThanOrEqual(relative, 1e-4, "\(arch) \(image.file) \(f.group)[\(f.level)]")
                XCTAssertLessThanOrEqual(abs(sum - f.sum), 1e-4 * f.absSum, "\(arch) \(image.file) \(f.group)[\(f.level)] sum")
            }

            // Proposals: same boxes (IoU >= 0.99), one to one.
            let expectedProposals = image.proposals.map { ReferenceDetection(box: $0, label: 0, score: 0) }
            let actualProposals = (0..<trace.proposals[0].count).map { i -> ReferenceDetection in
                let b = trace.proposals[0][i]
                return ReferenceDetection(box: [b.x1, b.y1, b.x2, b.y2], label: 0, score: 0)
            }
            let p = matchDetections(expected: expectedProposals, actual: actualProposals, minIoU: 0.99, maxScoreDifference: 1)
            totalProposals += expectedProposals.count
            proposalsMatched += p.reproduced
            XCTAssertEqual(actualProposals.count, expectedProposals.count, "\(arch) \(image.file) proposal count")

            let reference = image.detections.map { ReferenceDetection(box: $0.box, label: $0.label, score: $0.score) }
            let m = matchDetections(expected: reference, actual: detections.references, minIoU: 0.99, maxScoreDifference: 1e-3)
            if ProcessInfo.processInfo.environment["PARITY_DEBUG"] != nil {
                for e in reference {
                    let best = detections.references.filter { $0.label == e.label }
                        .max { intersectionOverUnion($0.box, e.box) < intersectionOverUnion($1.box, e.box) }
                    if let best, intersectionOverUnion(best.box, e.box) >= 0.99, abs(best.score - e.score) <= 1e-3 { continue }
                    print("unmatched \(image.file): \(e.label) \(e.score) \(e.box) | closest \(best.map { "\($0.score) \($0.box)" } ?? "-")")
                }
            }
            totalExpected += reference.count
            totalReproduced += m.reproduced
            totalExtra += m.extra
        }
        print("\(arch) on \(backend.name): proposals \(proposalsMatched)/\(totalProposals) matched; detections \(totalReproduced)/\(totalExpected) reproduced, \(totalExtra) extra")
        XCTAssertGreaterThan(totalExpected, 0, "fixture has no detections")
        XCTAssertGreaterThanOrEqual(Double(proposalsMatched), 0.99 * Double(totalProposals), "\(arch) proposals")
        XCTAssertGreaterThanOrEqual(Double(totalReproduced), 0.99 * Double(totalExpected), "\(arch) detections reproduced")
        XCTAssertLessThanOrEqual(Double(totalExtra), 0.01 * Double(totalExpected), "\(arch) extra detections")
    }

    func testResNet50FPN() throws { try Self.runParity("fasterrcnn_resnet50_fpn") }
    func testResNet50FPNv2() throws { try Self.runParity("fasterrcnn_resnet50_fpn_v2") }
    func testMobileNetV3LargeFPN() throws { try Self.runParity("fasterrcnn_mobilenet_v3_large_fpn") }
    func testMobileNetV3Large320FPN() throws { try Self.runParity("fasterrcnn_mobilenet_v3_large_320_fpn") }
    /// This project's own architecture, against torchvision's mobilenet_v2 + BackboneWithFPN + FasterRCNN.
    func testMobileNetV2FPN() throws { try Self.runParity("fasterrcnn_mobilenet_v2_fpn") }
}
