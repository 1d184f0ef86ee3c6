// AnchorGenerator against torchvision's anchors (fixtures) and the documented cell anchors.

import XCTest
import VisionDetection

final class OpsTestsAnchors: XCTestCase {
    func testCellAnchorsForSize32() {
        let cell = AnchorGenerator.resNetFPN.cellAnchors[0]
        XCTAssertEqual(cell.coordinates, [-23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23])
        XCTAssertEqual(AnchorGenerator.resNetFPN.anchorsPerLocation, [3, 3, 3, 3, 3])
        XCTAssertEqual(AnchorGenerator.mobileNetFPN.anchorsPerLocation, [15, 15, 15])
    }

    func testPoolStrideQuirk() {
        // 800 high padded image: the "pool" map is 13 high, so its stride is 800 / 13 = 61.
        let strides = AnchorGenerator.strides(featureSizes: [(200, 272), (13, 17)], paddedImageSize: (800, 1088))
        XCTAssertEqual(strides.map(\.height), [4, 61])
        XCTAssertEqual(strides.map(\.width), [4, 64])
    }

    func testAnchorsMatchTorchvision() throws {
        let fx = try DetOpsFixtures.load()
        guard let cases = fx.params["anchor_cases"] as? [[String: Any]], !cases.isEmpty else {
            throw FixtureError("detops: no anchor_cases")
        }
        for c in cases {
            let name = c["name"] as! String
            let padded = c["padded"] as! [Int]
            let features = (c["features"] as! [[Int]]).map { (height: $0[0], width: $0[1]) }
            let generator = (c["config"] as! String) == "resnet" ? AnchorGenerator.resNetFPN : AnchorGenerator.mobileNetFPN
            let anchors = generator.anchors(featureSizes: features, paddedImageSize: (padded[0], padded[1]))
            XCTAssertEqual(anchors.count, c["count"] as! Int, name)
            XCTAssertEqual(generator.anchorCount(featureSizes: features), anchors.count, name)

            let step = c["row_step"] as! Int
            var rows = Array(stride(from: 0, to: anchors.count, by: step))
            if rows.last != anchors.count - 1 { rows.append(anchors.count - 1) }
            let expected = try fx.array(name)
            XCTAssertEqual(expected.shape, [rows.count, 4], name)
            let got = anchors.selecting(rows).coordinates
            let diff = maxDifferences(got, expected.values)
            print("\(name): \(anchors.count) anchors, \(rows.count) rows checked, max abs diff \(diff.absolute)")
            XCTAssertEqual(got, expected.values, "\(name): anchors differ (max abs diff \(diff.absolute))")
        }
    }
}
