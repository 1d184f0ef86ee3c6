// loss_curve.png: the total loss per iteration (light) and its moving average (dark)
// on a white 640x360 canvas with a frame, drawn with VisionImaging's primitives.

import Foundation
import VisionImaging

public enum LossCurvePlot {
    public static func render(_ losses: [Float], width: Int = 640, height: Int = 360) -> RGBImage {
        var image = RGBImage(width: width, height: height, color: .white)
        let left = 50, right = width - 10, top = 20, bottom = height - 30
        image.strokeRectangle(left: left, top: top, right: right, bottom: bottom, thickness: 1, color: .black)
        let finite = losses.filter(\.isFinite)
        guard let maxLoss = finite.max(), finite.count > 1 else { return image }
        let scale = maxLoss > 0 ? maxLoss : 1
        image.drawText(String(format: "%.3g", scale), x: 2, y: top, scale: 1, color: .black)
        image.drawText("0", x: 2, y: bottom - 8, scale: 1, color: .black)
        image.drawText("loss over \(losses.count) iterations", x: left + 4, y: 4, scale: 1, color: .black)
        let window = max(1, losses.count / 20)
        var smoothed: [Float] = []
        var sum: Float = 0
        for (i, v) in finite.enumerated() {
            sum += v
            if i >= window { sum -= finite[i - window] }
            smoothed.append(sum / Float(min(i + 1, window)))
        }
        func point(_ i: Int, _ v: Float) -> (Int, Int) {
            let x = left + 1 + Int(Double(i) / Double(finite.count - 1) * Double(right - left - 2))
            let y = bottom - 1 - Int(Double(max(0, min(v, scale)) / scale) * Double(bottom - top - 2))
            return (x, y)
        }
        func polyline(_ values: [Float], _ color: RGBColor) {
            var previous = point(0, values[0])
            for (i, v) in values.enumerated().dropFirst() {
                let p = point(i, v)
                let steps = max(abs(p.0 - previous.0), abs(p.1 - previous.1), 1)
                for s in 0...steps {
                    let x = previous.0 + (p.0 - previous.0) * s / steps, y = previous.1 + (p.1 - previous.1) * s / steps
                    if x > left, x < right, y > top, y < bottom { image[x, y] = color }
                }
                previous = p
            }
        }
        polyline(finite, RGBColor(r: 160, g: 190, b: 230))
        polyline(smoothed, RGBColor(r: 20, g: 60, b: 160))
        return image
    }

    public static func write(_ losses: [Float], to url: URL) throws {
        try render(losses).encodePNG(name: url.path).write(to: url, options: .atomic)
    }
}
