// BoxCoder decode/encode, clipping and small-box removal against torchvision.

import XCTest
import VisionDetection

final class OpsTestsBoxCoder: XCTestCase {
    private func coder(_ params: [String: Any]) -> BoxCoder {
        let w = (params["weights"] as! [Double]).map { Float($0) }
        return BoxCoder(weights: (w[0], w[1], w[2], w[3]))
    }

    func testDecodeMatchesTorchvision() throws {
        let fx = try DetOpsFixtures.load()
        for name in ["decode_rpn", "decode_roi"] {
            let boxes = Boxes(coordinates: try fx.array(name + "_boxes").values)
            let deltas = try fx.array(name + "_deltas").values
            let expected = try fx.array(name + "_decoded").values
            let decoded = coder(try fx.param(name)).decode(deltas: deltas, boxes: boxes)
            XCTAssertEqual(decoded.coordinates.count, expected.count, name)
            let diff = maxDifferences(decoded.coordinates, expected)
            let exact = zip(decoded.coordinates, expected).filter { $0 == $1 }.count
            print("\(name): max abs diff \(diff.absolute), max rel diff \(diff.relative), bit-exact \(exact)/\(expected.count)")
            // Only exp may differ (torch's vectorised exp vs libm, 1 ulp), scaled by the box size.
            for (g, e) in zip(decoded.coordinates, expected) {
                XCTAssertLessThanOrEqual(abs(g - e), 1e-5 * max(abs(e), 1), "\(name): \(g) vs \(e)")
            }
            XCTAssertFalse(decoded.coordinates.contains { !$0.isFinite }, "\(name): clamp must keep boxes finite")
        }
    }

    func testDecodeClampsLargeScales() {
        // dw = 20 is clamped to log(1000/16): width 10 -> 625.
        let out = BoxCoder.rpn.decode(deltas: [0, 0, 20, 0], boxes: Boxes(coordinates: [0, 0, 10, 10]))
        XCTAssertEqual(out.coordinates[2] - out.coordinates[0], 625, accuracy: 1e-3)
        XCTAssertEqual(out.coordinates[3] - out.coordinates[1], 10, accuracy: 1e-5)
    }

    func testEncodeMatchesTorchvisionAndInvertsDecode() throws {
        let fx = try DetOpsFixtures.load()
        for name in ["encode_rpn", "encode_roi"] {
            let reference = Boxes(coordinates: try fx.array(name + "_reference").values)
            let proposals = Boxes(coordinates: try fx.array(name + "_proposals").values)
            let expected = try fx.array(name + "_encoded").values
            let c = coder(try fx.param(name))
            let encoded = c.encode(referenceBoxes: reference, proposals: proposals)
            let diff = maxDifferences(encoded, expected)
            print("\(name): max abs diff \(diff.absolute), max rel diff \(diff.relative)")
            for (g, e) in zip(encoded, expected) {
                XCTAssertLessThanOrEqual(abs(g - e), 1e-5 * max(abs(e), 1), "\(name): \(g) vs \(e)")
            }
            // decode(encode) gives the reference back, except where the scale clamp bites
            // (a width or height ratio above 1000/16).
            let rows = (0..<proposals.count).filter {
                encoded[$0 * 4 + 2] / c.ww <= c.scaleClamp && encoded[$0 * 4 + 3] / c.wh <= c.scaleClamp
            }
            XCTAssertGreaterThan(rows.count, proposals.count / 2)
            let decoded = c.decode(deltas: rows.flatMap { encoded[($0 * 4)..<($0 * 4 + 4)] }, boxes: proposals.selecting(rows))
            let roundTrip = maxDifferences(decoded.coordinates, reference.selecting(rows).coordinates)
            print("\(name): decode(encode) max abs diff \(roundTrip.absolute) over \(rows.count) unclamped rows")
            XCTAssertLessThan(roundTrip.absolute, 1e-3)
        }
    }

    func testClipAndRemoveSmallMatchTorchvision() throws {
        let fx = try DetOpsFixtures.load()
        let clip = try fx.param("clip")
        let input = Boxes(coordinates: try fx.array("clip_input").values)
        let clipped = input.clipped(toHeight: clip["height"] as! Int, width: clip["width"] as! Int)
        XCTAssertEqual(clipped.coordinates, try fx.array("clip_output").values)

        let small = Boxes(coordinates: try fx.array("small_boxes").values)
        let minSize = Float((try fx.param("small"))["min_size"] as! Double)
        let keep = small.indicesOfBoxes(minSize: minSize)
        XCTAssertEqual(keep, try fx.integers("small_keep"))
        XCTAssertGreaterThan(keep.count, 0)
        XCTAssertLessThan(keep.count, small.count)
        XCTAssertEqual(small.removingSmallBoxes(minSize: minSize).count, keep.count)
    }
}
