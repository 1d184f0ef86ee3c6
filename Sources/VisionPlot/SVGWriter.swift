// A scene as a standalone SVG element (inline in HTML or saved as .svg). Text uses a
// monospace face at the bitmap font's size so the SVG and the PNG lay out alike.

import Foundation
import VisionImaging

extension PlotScene {
    public func svg() -> String {
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" font-family=\"DejaVu Sans Mono, monospace\">\n"
        out += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        for item in items { out += Self.svg(item) + "\n" }
        return out + "</svg>"
    }

    static func number(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    static func hex(_ c: RGBColor) -> String { String(format: "#%02x%02x%02x", c.r, c.g, c.b) }

    static func svg(_ item: PlotItem) -> String {
        switch item {
        case let .polyline(points, color, width, dashed):
            let list = points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
            return "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(hex(color))\" stroke-width=\"\(width)\""
                + (dashed ? " stroke-dasharray=\"6 4\"" : "") + " stroke-linejoin=\"round\"/>"
        case let .rectangle(x, y, w, h, fill, stroke):
            return "<rect x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(w))\" height=\"\(number(h))\" "
                + "fill=\"\(fill.map(hex) ?? "none")\"" + (stroke.map { " stroke=\"\(hex($0))\"" } ?? "") + "/>"
        case let .text(text, x, y, anchor, scale, color, vertical):
            let size = 10 * scale
            let anchorName = anchor == .start ? "start" : anchor == .middle ? "middle" : "end"
            // The bitmap font's cap height is 7 of its 8 rows: the baseline is 7 rows below the top.
            if vertical {
                return "<text transform=\"translate(\(number(x + Double(7 * scale))),\(number(y))) rotate(-90)\" "
                    + "font-size=\"\(size)\" text-anchor=\"\(anchorName)\" fill=\"\(hex(color))\">\(HTML.escape(text))</text>"
            }
            return "<text x=\"\(number(x))\" y=\"\(number(y + Double(7 * scale)))\" font-size=\"\(size)\" "
                + "text-anchor=\"\(anchorName)\" fill=\"\(hex(color))\">\(HTML.escape(text))</text>"
        case let .dot(x, y, radius, color):
            return "<circle cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"\(number(radius))\" fill=\"\(hex(color))\"/>"
        }
    }
}
