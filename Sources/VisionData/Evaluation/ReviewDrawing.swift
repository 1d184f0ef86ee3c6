// Drawing a reviewed image: detections that found an object (solid outline, class
// colour, "label score"), false positives (dashed outline, "FP label score") and
// missed objects (class colour outline inside a black one, "MISS label" on black),
// so the three read apart even in a small thumbnail.

import Foundation
import VisionImaging

public enum ReviewDrawing {
    /// `image` shrunk to fit `maxSide` with the outcome drawn at that size.
    public static func draw(_ image: RGBImage, maxSide: Int, evaluation: EvaluationImage,
                            outcome: DetectionReview.ImageOutcome, classes: [String]) -> RGBImage {
        let scale = min(1, Double(maxSide) / Double(max(image.width, image.height, 1)))
        var out = scale < 1 ? shrink(image, scale: scale) : image
        let s = Float(scale)
        func name(_ label: Int) -> String { label >= 1 && label <= classes.count ? classes[label - 1] : "class \(label)" }
        let style = DetectionDrawingStyle(lineWidth: 2, fontScale: 1)
        for g in outcome.missed {
            let b = evaluation.groundTruth.boxes[g], label = evaluation.groundTruth.labels[g]
            let rect = (Int(Float(b.x1) * s), Int(Float(b.y1) * s), Int(Float(b.x2) * s) - 1, Int(Float(b.y2) * s) - 1)
            out.strokeRectangle(left: rect.0 - 1, top: rect.1 - 1, right: rect.2 + 1, bottom: rect.3 + 1, thickness: 4, color: .black)
            out.strokeRectangle(left: rect.0, top: rect.1, right: rect.2, bottom: rect.3, thickness: 2,
                                color: DetectionPalette.color(forClass: label))
            let text = "MISS \(name(label))"
            let size = RGBImage.textSize(text, scale: 1)
            let top = rect.3 + 2 + size.height + 2 <= out.height ? rect.3 + 2 : max(rect.1 - size.height - 2, 0)
            out.fillRectangle(left: rect.0, top: top, right: rect.0 + size.width + 2, bottom: top + size.height + 2, color: .black)
            out.drawText(text, x: rect.0 + 1, y: top + 1, scale: 1, color: .white)
        }
        for d in outcome.falsePositives {
            let det = evaluation.detections[d]
            let color = DetectionPalette.color(forClass: det.label)
            let l = Int(Float(det.box.x1) * s), t = Int(Float(det.box.y1) * s)
            let r = Int(Float(det.box.x2) * s) - 1, b = Int(Float(det.box.y2) * s) - 1
            dashedRectangle(&out, left: l, top: t, right: r, bottom: b, color: color)
        }
        let boxes = outcome.truePositives.map { box(evaluation.detections[$0], scale: s, label: name(evaluation.detections[$0].label)) }
        drawDetections(on: &out, boxes: boxes, style: style)
        // FP captions only (their outlines are dashed, drawn above): a caption band per box.
        for d in outcome.falsePositives {
            var fp = box(evaluation.detections[d], scale: s, label: "FP " + name(evaluation.detections[d].label))
            fp.x2 = fp.x1 + 1; fp.y2 = fp.y1 + 1  // caption only; a 1 px box hides under the dashed outline
            drawDetections(on: &out, boxes: [fp], style: DetectionDrawingStyle(lineWidth: 1, fontScale: 1))
        }
        return out
    }

    static func box(_ d: ScoredDetection, scale s: Float, label: String) -> DetectionBox {
        DetectionBox(x1: Float(d.box.x1) * s, y1: Float(d.box.y1) * s, x2: Float(d.box.x2) * s, y2: Float(d.box.y2) * s,
                     label: label, classId: d.label, score: Float(d.score))
    }

    static func dashedRectangle(_ image: inout RGBImage, left: Int, top: Int, right: Int, bottom: Int, color: RGBColor) {
        guard right > left, bottom > top else { return }
        for x in stride(from: left, through: right, by: 8) {
            image.fillRectangle(left: x, top: top, right: min(x + 5, right + 1), bottom: top + 2, color: color)
            image.fillRectangle(left: x, top: bottom - 1, right: min(x + 5, right + 1), bottom: bottom + 1, color: color)
        }
        for y in stride(from: top, through: bottom, by: 8) {
            image.fillRectangle(left: left, top: y, right: left + 2, bottom: min(y + 5, bottom + 1), color: color)
            image.fillRectangle(left: right - 1, top: y, right: right + 1, bottom: min(y + 5, bottom + 1), color: color)
        }
    }

    /// Box-filter downscale (each output pixel the mean of the source pixels it covers).
    static func shrink(_ image: RGBImage, scale: Double) -> RGBImage {
        let w = max(1, Int((Double(image.width) * scale).rounded())), h = max(1, Int((Double(image.height) * scale).rounded()))
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for oy in 0..<h {
            let sy0 = oy * image.height / h, sy1 = max(sy0 + 1, (oy + 1) * image.height / h)
            for ox in 0..<w {
                let sx0 = ox * image.width / w, sx1 = max(sx0 + 1, (ox + 1) * image.width / w)
                var sum = (0, 0, 0)
                for sy in sy0..<sy1 {
                    for sx in sx0..<sx1 {
                        let i = (sy * image.width + sx) * 3
                        sum.0 += Int(image.pixels[i]); sum.1 += Int(image.pixels[i + 1]); sum.2 += Int(image.pixels[i + 2])
                    }
                }
                let n = (sy1 - sy0) * (sx1 - sx0), o = (oy * w + ox) * 3
                out[o] = UInt8(sum.0 / n); out[o + 1] = UInt8(sum.1 / n); out[o + 2] = UInt8(sum.2 / n)
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
