// Clipped drawing primitives on RGBImage: filled rectangles and bitmap text.
// Coordinates may lie partly or wholly outside the image; only the visible
// part is drawn, so callers never need to clip.

extension RGBImage {
    /// Fills the half-open rectangle [left, right) x [top, bottom).
    public mutating func fillRectangle(left: Int, top: Int, right: Int, bottom: Int, color: RGBColor) {
        let x0 = max(left, 0), x1 = min(right, width)
        let y0 = max(top, 0), y1 = min(bottom, height)
        guard x0 < x1, y0 < y1 else { return }
        let imageWidth = width
        pixels.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for y in y0..<y1 {
                var p = base + (y &* imageWidth &+ x0) &* 3
                for _ in x0..<x1 {
                    p[0] = color.r; p[1] = color.g; p[2] = color.b
                    p += 3
                }
            }
        }
    }

    /// Draws the outline of the inclusive pixel rectangle [left, right] x
    /// [top, bottom], `thickness` pixels wide, growing inwards.
    public mutating func strokeRectangle(left: Int, top: Int, right: Int, bottom: Int,
                                         thickness: Int, color: RGBColor) {
        guard right >= left, bottom >= top, thickness > 0 else { return }
        let t = min(thickness, (right - left) / 2 + 1, (bottom - top) / 2 + 1)
        fillRectangle(left: left, top: top, right: right + 1, bottom: top + t, color: color)
        fillRectangle(left: left, top: bottom + 1 - t, right: right + 1, bottom: bottom + 1, color: color)
        fillRectangle(left: left, top: top, right: left + t, bottom: bottom + 1, color: color)
        fillRectangle(left: right + 1 - t, top: top, right: right + 1, bottom: bottom + 1, color: color)
    }

    /// Pixel size of `text` drawn at `scale` (no trailing spacing column).
    public static func textSize(_ text: String, scale: Int) -> (width: Int, height: Int) {
        let count = text.unicodeScalars.count
        let width = count == 0 ? 0 : (count * BitmapFont.advance - (BitmapFont.advance - BitmapFont.glyphWidth)) * scale
        return (width, BitmapFont.glyphHeight * scale)
    }

    /// Draws `text` with the built-in 5x8 font, each font pixel a `scale` x
    /// `scale` block, top-left corner at (x, y). Non-ASCII characters draw as "?".
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, color: RGBColor) {
        let scale = max(scale, 1)
        var originX = x
        for scalar in text.unicodeScalars {
            for (row, bits) in BitmapFont.rows(of: scalar).enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> column) != 0 {
                    let px = originX + column * scale, py = y + row * scale
                    fillRectangle(left: px, top: py, right: px + scale, bottom: py + scale, color: color)
                }
            }
            originX += BitmapFont.advance * scale
        }
    }
}
