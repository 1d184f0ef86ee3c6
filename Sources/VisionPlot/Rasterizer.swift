// A scene drawn onto an RGBImage with VisionImaging's primitives and bitmap font,
// for the PNGs (loss_curve.png, the eval report's charts).

import Foundation
import VisionImaging

extension PlotScene {
    public func rasterized() -> RGBImage {
        var image = RGBImage(width: width, height: height, color: .white)
        for item in items { Self.draw(item, on: &image) }
        return image
    }

    public func png() throws -> Data { try rasterized().encodePNG() }

    static func draw(_ item: PlotItem, on image: inout RGBImage) {
        switch item {
        case let .polyline(points, color, width, dashed):
            drawPolyline(points, color: color, width: width, dashed: dashed, on: &image)
        case let .rectangle(x, y, w, h, fill, stroke):
            let l = Int(x.rounded()), t = Int(y.rounded()), r = Int((x + w).rounded()), b = Int((y + h).rounded())
            if let fill { image.fillRectangle(left: l, top: t, right: r, bottom: b, color: fill) }
            if let stroke { image.strokeRectangle(left: l, top: t, right: r - 1, bottom: b - 1, thickness: 1, color: stroke) }
        case let .text(text, x, y, anchor, scale, color, vertical):
            let size = RGBImage.textSize(text, scale: scale)
            let shift: Int = anchor == .start ? 0 : anchor == .middle ? size.width / 2 : size.width
            if vertical {
                drawVerticalText(text, x: Int(x.rounded()), y: Int(y.rounded()) + shift, scale: scale, color: color, on: &image)
            } else {
                image.drawText(text, x: Int(x.rounded()) - shift, y: Int(y.rounded()), scale: scale, color: color)
            }
        case let .dot(x, y, radius, color):
            let r = Int(radius.rounded()), cx = Int(x.rounded()), cy = Int(y.rounded())
            for dy in -r...r {
                let half = Int(Double(r * r - dy * dy).squareRoot())
                image.fillRectangle(left: cx - half, top: cy + dy, right: cx + half + 1, bottom: cy + dy + 1, color: color)
            }
        }
    }

    /// Lines stepped one pixel at a time along the longer axis, each pixel a
    /// `width` square; a dash pattern of 6 pixels on, 4 off continues across vertices.
    static func drawPolyline(_ points: [PlotPoint], color: RGBColor, width: Int, dashed: Bool, on image: inout RGBImage) {
        guard points.count > 1 else { return }
        let half = (width - 1) / 2
        var travelled = 0
        for (a, b) in zip(points, points.dropFirst()) {
            let x0 = a.x.rounded(), y0 = a.y.rounded(), x1 = b.x.rounded(), y1 = b.y.rounded()
            let steps = Int(max(abs(x1 - x0), abs(y1 - y0)).rounded())
            guard steps <= 100_000 else { continue }
            for s in 0...steps {
                defer { travelled += 1 }
                if dashed && travelled % 10 >= 6 { continue }
                let t = steps == 0 ? 0 : Double(s) / Double(steps)
                let x = Int((x0 + (x1 - x0) * t).rounded()) - half, y = Int((y0 + (y1 - y0) * t).rounded()) - half
                image.fillRectangle(left: x, top: y, right: x + width, bottom: y + width, color: color)
            }
            travelled -= 1  // the shared vertex is stepped twice
        }
    }

    /// Text turned to read upwards, its baseline side to the right of x and its
    /// centre line at `y`: drawn upright on a scratch image, then copied rotated.
    static func drawVerticalText(_ text: String, x: Int, y: Int, scale: Int, color: RGBColor, on image: inout RGBImage) {
        let size = RGBImage.textSize(text, scale: scale)
        guard size.width > 0 else { return }
        var scratch = RGBImage(width: size.width, height: size.height, color: .black)
        scratch.drawText(text, x: 0, y: 0, scale: scale, color: .white)
        for sy in 0..<size.height {
            for sx in 0..<size.width where scratch[sx, sy].r != 0 {
                // Upright (sx, sy) -> rotated 90 degrees counter-clockwise, ending at y.
                let px = x + sy, py = y - sx
                if px >= 0, py >= 0, px < image.width, py < image.height { image[px, py] = color }
            }
        }
    }
}
