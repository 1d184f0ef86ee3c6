import VisionCore
import XCTest

/// The RPN's seam operations: anchorsLast is torchvision's permute_and_flatten
/// ([N, A*v, H, W] -> view(N, A, v, H, W) -> permute(0, 3, 4, 1, 2) -> [N, H*W*A, v]) for one
/// image, and gatherAnchors picks the same rows without materialising the rest.
final class AnchorOrderTests: XCTestCase {
    func testAnchorsLastIsPermuteAndFlattenAndGatherAgrees() {
        let backend = CPUBackend(threads: .single)
        for (n, a, v, h, w) in [(2, 3, 4, 5, 7), (1, 1, 1, 1, 1), (3, 15, 1, 2, 9)] {
            let input = Tensor(shape: [n, a * v, h, w], values: (0..<(n * a * v * h * w)).map { Float($0) * 0.5 - 3 })
            for image in 0..<n {
                let out = backend.anchorsLast(input, image: image, valuesPerAnchor: v)
                XCTAssertEqual(out.shape, [h * w * a, v])
                // permute(0, 3, 4, 1, 2): output index (y, x, anchor, j) reads input (anchor, j, y, x).
                var expected: [Float] = []
                for y in 0..<h { for x in 0..<w { for anchor in 0..<a { for j in 0..<v {
                    expected.append(input[flat: (((image * a + anchor) * v + j) * h + y) * w + x])
                } } } }
                XCTAssertEqual(out.values, expected, "n \(n) a \(a) v \(v) h \(h) w \(w) image \(image)")
                let rows = [h * w * a - 1, 0, (h * w * a) / 2, 0]
                let gathered = backend.gatherAnchors(input, image: image, valuesPerAnchor: v, rows: rows)
                XCTAssertEqual(gathered.shape, [rows.count, v])
                XCTAssertEqual(gathered.values, rows.flatMap { Array(out.values[($0 * v)..<($0 * v + v)]) })
            }
        }
    }
}
