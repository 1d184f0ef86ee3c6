// Every augmentation moves boxes exactly with the pixels: synthetic images with solid
// boxes, each of its own colour on a grey background, are augmented, and each box after
// the transform must enclose exactly the pixels of its colour (resizing blends edges, so
// there the check allows the one-pixel band bilinear interpolation touches).

import Foundation
import VisionCore
import VisionDetection
import VisionTraining
import XCTest

final class AugmentationTests: XCTestCase {
    /// Colours of boxes 0, 1, 2 (background 0.5 grey).
    static let colours: [[Float]] = [[1, 0, 0], [0, 0.8, 0.2], [0.1, 0.2, 1]]
    static let background: Float = 0.5

    /// A 3 x 90 x 120 image with three disjoint solid boxes (integer pixel edges).
    func syntheticSample() -> TrainingSample {
        let h = 90, w = 120
        let image = Tensor(shape: [3, h, w])
        let px = image.storage.pointer
        for i in 0..<(3 * h * w) { px[i] = Self.background }
        let rects = [(5, 8, 40, 50), (50, 10, 110, 30), (60, 45, 100, 85)]  // x1, y1, x2, y2 (x2, y2 exclusive)
        var boxes = Boxes()
        for (k, r) in rects.enumerated() {
            for y in r.1..<r.3 { for x in r.0..<r.2 { for c in 0..<3 { px[(c * h + y) * w + x] = Self.colours[k][c] } } }
            boxes.append(x1: Float(r.0), y1: Float(r.1), x2: Float(r.2), y2: Float(r.3))
        }
        return TrainingSample(image: image, boxes: boxes, labels: [1, 2, 3])
    }

    /// The bounding box (x1, y1, x2 exclusive, y2 exclusive) of the pixels of colour `colour`, nil if none.
    func extent(of colour: [Float], in image: Tensor) -> (Float, Float, Float, Float)? {
        let h = image.shape[1], w = image.shape[2], px = image.storage.pointer
        var x1 = Int.max, y1 = Int.max, x2 = -1, y2 = -1
        for y in 0..<h { for x in 0..<w where (0..<3).allSatisfy({ abs(px[($0 * h + y) * w + x] - colour[$0]) < 1e-6 }) {
            x1 = min(x1, x); y1 = min(y1, y); x2 = max(x2, x + 1); y2 = max(y2, y + 1)
        } }
        return x2 < 0 ? nil : (Float(x1), Float(y1), Float(x2), Float(y2))
    }

    func assertBoxesEncloseTheirColours(_ s: TrainingSample, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        for i in 0..<s.boxes.count {
            let b = s.boxes[i]
            guard let e = extent(of: Self.colours[s.labels[i] - 1], in: s.image) else {
                return XCTFail("\(message): box \(i) kept but no pixel of its colour", file: file, line: line)
            }
            XCTAssertEqual([b.x1, b.y1, b.x2, b.y2], [e.0, e.1, e.2, e.3], "\(message): box \(i)", file: file, line: line)
        }
    }

    func testHorizontalFlipMovesBoxesWithPixels() {
        let flipped = syntheticSample().flippedHorizontally()
        assertBoxesEncloseTheirColours(flipped, "flip")
        XCTAssertEqual(flipped.boxes[0].x1, 120 - 40)
    }

    func testRandomIoUCropBoxesEncloseExactlyTheirPixels() {
        let sample = syntheticSample()
        var cropped = 0, partlyCut = 0, dropped = 0
        for seed in 0..<200 as Range<UInt64> {
            var rng = TrainingRNG(seed: seed)
            guard let crop = RandomIoUCrop().draw(width: 120, height: 90, boxes: sample.boxes, &rng) else { continue }
            let out = RandomIoUCrop.apply(crop, to: sample)
            cropped += 1
            XCTAssertEqual(out.image.shape, [3, crop.bottom - crop.top, crop.right - crop.left])
            assertBoxesEncloseTheirColours(out, "seed \(seed)")
            XCTAssertFalse(out.boxes.isEmpty, "a crop keeps at least one box")
            // A box dropped (centre outside the crop) may leave pixels; a kept one is clamped to the crop.
            dropped += 3 - out.boxes.count
            for i in 0..<out.boxes.count where out.boxes[i].x2 - out.boxes[i].x1 < sample.boxes[out.labels[i] - 1].x2 - sample.boxes[out.labels[i] - 1].x1 {
                partlyCut += 1
            }
        }
        print("IoU crop: \(cropped) of 200 cropped, \(dropped) boxes dropped, \(partlyCut) cut by the crop edge")
        XCTAssertGreaterThan(cropped, 100, "most draws crop (1 option in 7 leaves the image)")
        XCTAssertGreaterThan(partlyCut, 0, "some crops cut through a box (clamping is exercised)")
        XCTAssertGreaterThan(dropped, 0, "some crops drop boxes whose centre is outside")
    }

    func testIoUCropHonoursTheMinimumOverlap() {
        var crop = RandomIoUCrop()
        crop.options = [0.7, 1.0]
        let sample = syntheticSample()
        for seed in 0..<100 as Range<UInt64> {
            var rng = TrainingRNG(seed: seed)
            guard let c = crop.draw(width: 120, height: 90, boxes: sample.boxes, &rng) else { continue }
            let best = c.kept.map { RandomIoUCrop.iou(sample.boxes[$0], left: Float(c.left), top: Float(c.top),
                                                      right: Float(c.right), bottom: Float(c.bottom)) }.max()!
            XCTAssertGreaterThanOrEqual(best, 0.7, "seed \(seed)")
        }
    }

    func testPhotometricDistortionKeepsBoxesAndRegionsUniform() {
        let sample = syntheticSample()
        let distort = PhotometricDistort(probability: 1, channelPermutationProbability: 1)
        for seed in 0..<20 as Range<UInt64> {
            var rng = TrainingRNG(seed: seed)
            let p = distort.draw(&rng)
            XCTAssertNotNil(p.brightness); XCTAssertNotNil(p.hue); XCTAssertNotNil(p.channelPermutation)
            let out = PhotometricDistort.apply(p, to: sample.image)
            // Every operation is per pixel (with one global mean), so each solid box stays
            // solid and the distorted colour of box k is found exactly where box k was.
            for k in 0..<3 {
                let b = sample.boxes[k]
                let h = 90, w = 120, px = out.storage.pointer
                let colour = (0..<3).map { px[($0 * h + Int(b.y1)) * w + Int(b.x1)] }
                guard let e = extent(of: colour, in: out) else { return XCTFail("seed \(seed): colour \(k) lost") }
                XCTAssertEqual([e.0, e.1, e.2, e.3], [b.x1, b.y1, b.x2, b.y2], "seed \(seed) box \(k)")
            }
            XCTAssertTrue(out.values.allSatisfy { $0 >= 0 && $0 <= 1 }, "values stay in [0, 1]")
        }
    }

    func testPhotometricOperationsAgreeWithTorchvisionOnKnownValues() {
        let red = Tensor(shape: [3, 1, 2], values: [1, 0.2, 0, 0.4, 0, 0.6])  // pixels (1, 0, 0) and (0.2, 0.4, 0.6)
        func apply(_ p: PhotometricDistort.Parameters) -> [Float] { PhotometricDistort.apply(p, to: red).values }
        let none = PhotometricDistort.Parameters(brightness: nil, contrast: nil, saturation: nil, hue: nil, contrastFirst: true,
                                                 channelPermutation: nil)
        var p = none
        p.hue = 1.0 / 3  // red -> green in HSV; (0.2, 0.4, 0.6) has h = 7/12 -> 11/12: (0.6, 0.2, 0.4)
        for (x, y) in zip(apply(p), [0, 0.6, 1, 0.2, 0, 0.4] as [Float]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        p = none
        p.brightness = 1.5  // clamp(1.5 x)
        for (x, y) in zip(apply(p), [1, 0.3, 0, 0.6, 0, 0.9] as [Float]) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        p = none
        p.saturation = 0  // grayscale 0.2989 R + 0.587 G + 0.114 B in every channel
        for (x, y) in zip(apply(p), [0.2989, 0.36298, 0.2989, 0.36298, 0.2989, 0.36298] as [Float]) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        p = none
        p.contrast = 0  // the mean grayscale everywhere
        for x in apply(p) { XCTAssertEqual(x, (0.2989 + 0.36298) / 2, accuracy: 1e-5) }
        // torchvision 0.2x: F.adjust_hue(torch.rand(3, 2, 2) after manual_seed(0), -0.04).
        let random = Tensor(shape: [3, 2, 2], values: [0.49625658988952637, 0.7682217955589294, 0.08847743272781372, 0.13203048706054688,
                                                      0.30742281675338745, 0.6340786814689636, 0.4900934100151062, 0.8964447379112244,
                                                      0.455627977848053, 0.6323062777519226, 0.3488934636116028, 0.40171730518341064])
        p = none
        p.hue = -0.04
        let torchvisionHue: [Float] = [0.491565078496933, 0.7682217955589294, 0.08847744762897491, 0.13203050196170807,
                                       0.30742281675338745, 0.6323062777519226, 0.4900934100151062, 0.8964447379112244,
                                       0.49625658988952637, 0.6631536483764648, 0.2525055706501007, 0.21825815737247467]
        for (x, y) in zip(PhotometricDistort.apply(p, to: random).values, torchvisionHue) { XCTAssertEqual(x, y, accuracy: 2e-6) }
        p = none
        p.channelPermutation = [2, 0, 1]
        XCTAssertEqual(apply(p), [0, 0.6, 1, 0.2, 0, 0.4])
    }

    func testMultiScaleBatchScalesBoxesWithTheImage() throws {
        let config = try ModelConfig.load(name: "fasterrcnn_mobilenet_v2_fpn")
        let sample = syntheticSample()
        for side in [60, 90, 150] {
            var c = config
            c.minSize = side
            let transform = DetectionTransform(config: c)
            let batch = TrainingBatch(samples: [sample, sample.flippedHorizontally()], transforms: [transform, DetectionTransform(config: config)])
            let (h, w) = batch.imageSizes[0]
            XCTAssertEqual(h, side)
            XCTAssertEqual(w, side * 4 / 3)
            // Pixels a pixel inside a box carry its colour (normalised: (v - 0.5) / 0.5); a pixel outside, the background's.
            let H = batch.images.shape[2], W = batch.images.shape[3], px = batch.images.storage.pointer
            var inside = 0, outside = 0
            for y in 0..<h { for x in 0..<w {
                let cx = Float(x) + 0.5, cy = Float(y) + 0.5, v = px[y * W + x]
                var near = false
                for k in 0..<3 {
                    let b = batch.boxes[0][k], red = (Self.colours[k][0] - 0.5) / 0.5
                    if cx > b.x1 + 1 && cx < b.x2 - 1 && cy > b.y1 + 1 && cy < b.y2 - 1 {
                        XCTAssertEqual(v, red, accuracy: 1e-4, "side \(side) box \(k) inside at \(x),\(y)")
                        inside += 1
                    }
                    near = near || (cx > b.x1 - 1 && cx < b.x2 + 1 && cy > b.y1 - 1 && cy < b.y2 + 1)
                }
                if !near {
                    XCTAssertEqual(v, 0, accuracy: 1e-4, "side \(side): background at \(x),\(y)")
                    outside += 1
                }
            } }
            XCTAssertGreaterThan(inside, 0)
            XCTAssertGreaterThan(outside, 0)
            XCTAssertEqual(H % 32, 0)
            let reference = TrainingBatch(samples: [sample], transform: transform)
            XCTAssertEqual(reference.boxes[0], batch.boxes[0], "the multi-scale batch scales boxes as the single-transform one")
            XCTAssertEqual(batch.imageSizes[1].height, config.minSize)
        }
    }
}
