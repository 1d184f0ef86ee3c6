import Foundation
import VisionCore
import VisionDetection
import VisionImaging
import XCTest

/// Full-size parity (opt-in, not in CI: the checkpoints are ~170 MB each):
///
///     ~/ref/bin/python Tests/Fixtures/generate_full_size.py ~/.cache/vision-parity
///     VISION_FULL_SIZE_DIR=~/.cache/vision-parity swift test -c release --filter FullSizeParityTests
///
/// For each architecture and file format: >= 99% of torchvision's detections
/// reproduced (same label, IoU >= 0.98, |prob difference| <= 0.01), <= 2% extra.
final class FullSizeParityTests: XCTestCase {
    struct Expected: Decodable {
        struct Detection: Decodable { var box: [Float]; var label: Int; var score: Float }
        struct Image: Decodable { var file: String; var detections: [Detection] }
        var arch: String
        var images: [Image]
    }

    func testFullSizeCheckpointsReproduceTorchvision() throws {
        guard let dirPath = ProcessInfo.processInfo.environment["VISION_FULL_SIZE_DIR"] else {
            throw XCTSkip("set VISION_FULL_SIZE_DIR (see Tests/Fixtures/generate_full_size.py)")
        }
        let dir = URL(fileURLWithPath: (dirPath as NSString).expandingTildeInPath)
        let photos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Samples/photos")
        var table = ["| architecture | format | torchvision detections | reproduced | extra | load s | detect s/image |",
                     "|---|---|---|---|---|---|---|"]
        let only = ProcessInfo.processInfo.environment["VISION_FULL_SIZE_ONLY"]  // e.g. "fasterrcnn_resnet50_fpn.safetensors"
        for arch in ModelConfig.names {
            let expectedURL = dir.appendingPathComponent("\(arch).expected.json")
            guard FileManager.default.fileExists(atPath: expectedURL.path) else { continue }
            let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: expectedURL))
            let images = try expected.images.map { image -> RGBImage in
                let inPhotos = photos.appendingPathComponent(image.file)
                let url = FileManager.default.fileExists(atPath: inPhotos.path) ? inPhotos : dir.appendingPathComponent(image.file)
                return try ImageDecoder.decode(contentsOf: url)
            }
            for file in ["\(arch).safetensors", "\(arch).pth", "\(arch)_legacy.pth"] where only.map({ $0.hasPrefix(arch) && file.hasPrefix($0) || $0 == arch }) ?? true {
                let start = Date()
                let detector = try Detector(checkpoint: dir.appendingPathComponent(file), model: arch)
                let loadSeconds = Date().timeIntervalSince(start)
                var total = 0, reproduced = 0, extra = 0
                let detectStart = Date()
                for (image, reference) in zip(images, expected.images) {
                    let ours = detector.model.detect([image.toTensor()])[0]
                    let m = matchDetections(
                        expected: reference.detections.map { ReferenceDetection(box: $0.box, label: $0.label, score: $0.score) },
                        actual: ours.references, minIoU: 0.98, maxScoreDifference: 0.01)
                    if let dump = ProcessInfo.processInfo.environment["VISION_FULL_SIZE_DUMP"] {
                        // Our detections, for a closer look next to torchvision's.
                        let rows = ours.references.map { ["box": $0.box.map(Double.init), "label": [Double($0.label)], "score": [Double($0.score)]] }
                        try JSONSerialization.data(withJSONObject: rows).write(
                            to: URL(fileURLWithPath: dump).appendingPathComponent("\(file).\(reference.file).json"))
                    }
                    if m.reproduced < reference.detections.count {
                        print("\(file) \(reference.file): \(m.reproduced)/\(reference.detections.count) reproduced, \(m.extra) extra")
                    }
                    total += reference.detections.count
                    reproduced += m.reproduced
                    extra += m.extra
                }
                let perImage = Date().timeIntervalSince(detectStart) / Double(images.count)
                table.append("| \(arch) | \(detector.format) | \(total) | \(reproduced) (\(String(format: "%.1f", 100 * Double(reproduced) / Double(max(total, 1))))%) | \(extra) | \(String(format: "%.2f", loadSeconds)) | \(String(format: "%.2f", perImage)) |")
                XCTAssertGreaterThan(total, 0, "\(arch): torchvision found nothing; the check would be vacuous")
                XCTAssertGreaterThanOrEqual(Double(reproduced), 0.99 * Double(total), "\(arch) \(file)")
                XCTAssertLessThanOrEqual(Double(extra), 0.02 * Double(total), "\(arch) \(file)")
            }
        }
        print(table.joined(separator: "\n"))
    }
}
