import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionImaging
import VisionKernels
import XCTest

/// Thread count and Winograd routing belong to each backend: two detectors with
/// different settings, detecting at the same time in one process, each give what
/// they give alone, and what one thread gives (bit for bit without Winograd where sgemm's
/// rounding does not depend on a call's width; within 1e-4 otherwise).
final class ConcurrentBackendsTests: XCTestCase {
    func model(_ backend: CPUBackend) throws -> FasterRCNN {
        let dir = FasterRCNNParityTests.fixtures
        let arch = "fasterrcnn_mobilenet_v3_large_fpn"
        let config = try ModelConfig.load(file: dir.appendingPathComponent("\(arch).json"))
        let weights = dir.appendingPathComponent("\(arch).safetensors")
        let (state, _) = try loadStateDict(from: weights)
        return try FasterRCNN(config: config, stateDict: state, source: weights.path, backend: backend)
    }

    /// Boxes (flat [N, 4]), then scores, then labels as floats.
    func flattened(_ d: Detections) -> [Float] { d.boxes.coordinates + d.scores + d.labels.map(Float.init) }

    func testTwoDetectorsWithDifferentSettingsRunConcurrently() throws {
        let image = try ImageDecoder.decode(contentsOf: FasterRCNNParityTests.fixtures.appendingPathComponent("pets.png")).toTensor()
        let settings: [(threads: Int, routing: WinogradRouting)] = [(3, .always), (2, .never)]
        let oneThread = try settings.map { try model(CPUBackend(threads: .single, winogradRouting: $0.routing)).detect([image])[0] }
        let models = try settings.map { try model(CPUBackend(threads: KernelThreads($0.threads), winogradRouting: $0.routing)) }
        let alone = models.map { $0.detect([image])[0] }
        XCTAssertGreaterThan(alone[0].count, 0, "the fixture model finds objects")

        let results = UnsafeMutableBufferPointer<[Detections]>.allocate(capacity: 2)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            out[i] = (0..<3).map { _ in models[i].detect([image])[0] }
        }
        for i in 0..<2 {
            XCTAssertEqual(results[i].count, 3)
            for got in results[i] {
                XCTAssertEqual(flattened(got), flattened(alone[i]), "detector \(i): concurrent run differs from its run alone")
                XCTAssertEqual(got.labels, oneThread[i].labels, "detector \(i): labels vs one thread")
                if settings[i].routing == .never && !sgemmRoundingDependsOnCallWidth {
                    XCTAssertEqual(flattened(got), flattened(oneThread[i]), "detector \(i): not bit-identical to one thread")
                } else {
                    // Winograd's block widths, or (sgemmRoundingDependsOnCallWidth) the GEMMs'
                    // column split, follow the thread count.
                    XCTAssertEqual(got.count, oneThread[i].count)
                    let worst = zip(flattened(got), flattened(oneThread[i])).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, 1e-4, "detector \(i): vs one thread")
                }
            }
        }
    }
}
