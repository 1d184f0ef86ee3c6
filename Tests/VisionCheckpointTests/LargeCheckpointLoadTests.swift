// Manual timing check on a full-size checkpoint, skipped unless
// VISION_LARGE_CHECKPOINTS lists files (colon-separated), e.g. a torchvision
// fasterrcnn_resnet50_fpn state dict saved by torch.save.

import Foundation
import VisionCheckpoint
import XCTest

final class LargeCheckpointLoadTests: XCTestCase {
    func testLoadTimeOfLargeCheckpoints() throws {
        guard let list = ProcessInfo.processInfo.environment["VISION_LARGE_CHECKPOINTS"] else {
            throw XCTSkip("set VISION_LARGE_CHECKPOINTS=/path/a.pth:/path/b.safetensors to time large loads")
        }
        for path in list.split(separator: ":").map(String.init) {
            let url = URL(fileURLWithPath: path)
            var best = Double.infinity
            var keys = 0, elements = 0
            var format = CheckpointFormat.pthZip
            for _ in 0 ..< 3 {
                let start = DispatchTime.now().uptimeNanoseconds
                let (stateDict, f) = try loadStateDict(from: url)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                keys = stateDict.count
                elements = stateDict.keys.reduce(0) { $0 + stateDict[$1]!.count }
                format = f
            }
            print("\(url.lastPathComponent): \(format), \(keys) keys, \(elements) elements, best of 3: \(String(format: "%.3f", best)) s")
            XCTAssertGreaterThan(keys, 0)
            // Re-save in both formats (for an outside check with torch / safetensors) and time it.
            let (stateDict, _) = try loadStateDict(from: url)
            let stem = CheckpointFixtures.temporaryURL("resaved-" + url.deletingPathExtension().lastPathComponent)
            let start = DispatchTime.now().uptimeNanoseconds
            try savePth(stateDict, to: stem.appendingPathExtension("pth"))
            let middle = DispatchTime.now().uptimeNanoseconds
            try saveSafetensors(stateDict, to: stem.appendingPathExtension("safetensors"))
            let end = DispatchTime.now().uptimeNanoseconds
            print("  re-saved to \(stem.path).{pth,safetensors}: \(Double(middle - start) / 1e9) s, \(Double(end - middle) / 1e9) s")
            let (again, _) = try loadStateDict(from: stem.appendingPathExtension("pth"))
            XCTAssertEqual(again.keys, stateDict.keys)
        }
    }
}
