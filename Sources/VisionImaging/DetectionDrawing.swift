// Annotating an image with detection boxes: per-class coloured outlines and a
// "label score" caption on a filled background above each box.

/// One detection to draw, in pixel coordinates of the image (x1, y1 top-left;
/// x2, y2 bottom-right, exclusive as in torchvision's boxes).
public struct DetectionBox: Sendable, Hashable {
    public var x1: Float, y1: Float, x2: Float, y2: Float
    public var label: String
    public var classId: Int
    public var score: Float
    /// false for annotated (ground-truth) boxes, which have no score: the caption is the label.
    public var showsScore: Bool

    public init(x1: Float, y1: Float, x2: Float, y2: Float, label: String, classId: Int, score: Float,
                showsScore: Bool = true) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
        self.label = label; self.classId = classId; self.score = score; self.showsScore = showsScore
    }

    /// "label 0.87": the score with two decimals ("label" alone without a score).
    public var caption: String {
        guard showsScore else { return label }
        guard score.isFinite else { return "\(label) ?" }
        let hundredths = Int((min(max(score, 0), 1) * 100).rounded())
        let fraction = hundredths % 100
        return "\(label) \(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// Twenty mutually distinct colours; class ids cycle through them.
public enum DetectionPalette {
    public static let colors: [RGBColor] = [
        RGBColor(r: 230, g: 25, b: 75), RGBColor(r: 60, g: 180, b: 75), RGBColor(r: 255, g: 225, b: 25),
        RGBColor(r: 0, g: 130, b: 200), RGBColor(r: 245, g: 130, b: 48), RGBColor(r: 145, g: 30, b: 180),
        RGBColor(r: 70, g: 240, b: 240), RGBColor(r: 240, g: 50, b: 230), RGBColor(r: 210, g: 245, b: 60),
        RGBColor(r: 250, g: 190, b: 212), RGBColor(r: 0, g: 128, b: 128), RGBColor(r: 220, g: 190, b: 255),
        RGBColor(r: 170, g: 110, b: 40), RGBColor(r: 255, g: 250, b: 200), RGBColor(r: 128, g: 0, b: 0),
        RGBColor(r: 170, g: 255, b: 195), RGBColor(r: 128, g: 128, b: 0), RGBColor(r: 255, g: 215, b: 180),
        RGBColor(r: 0, g: 0, b: 128), RGBColor(r: 128, g: 128, b: 128),
    ]

    public static func color(forClass classId: Int) -> RGBColor {
        let n = colors.count
        return colors[((classId % n) + n) % n]
    }

    /// Black or white, whichever reads better on `background`.
    public static func textColor(on background: RGBColor) -> RGBColor {
        let luma = 299 * Int(background.r) + 587 * Int(background.g) + 114 * Int(background.b)
        return luma > 150_000 ? .black : .white
    }
}

/// Line width and font scale for annotations.
public struct DetectionDrawingStyle: Sendable, Hashable {
    public var lineWidth: Int
    public var fontScale: Int

    public init(lineWidth: Int, fontScale: Int) {
        self.lineWidth = lineWidth
        self.fontScale = fontScale
    }

    /// 2 px lines and 1x text on small images; the font doubles from a
    /// 700 px short side (3 px lines) and keeps growing on huge images.
    public static func automatic(width: Int, height: Int) -> DetectionDrawingStyle {
        let scale = 1 + min(width, height) / 700
        return DetectionDrawingStyle(lineWidth: scale + 1, fontScale: scale)
    }
}

/// Draws every box's outline, then every caption (so no outline crosses a
/// caption). Boxes with non-finite coordinates are skipped; everything is
/// clipped to the image.
public func drawDetections(on image: inout RGBImage, boxes: [DetectionBox], style: DetectionDrawingStyle? = nil) {
    let style = style ?? .automatic(width: image.width, height: image.height)
    let visible = boxes.compactMap { box in pixelRectangle(box, in: image).map { (box, $0) } }
    for (box, rect) in visible {
        image.strokeRectangle(left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom,
                              thickness: style.lineWidth, color: DetectionPalette.color(forClass: box.classId))
    }
    for (box, rect) in visible {
        drawCaption(box, above: rect, on: &image, style: style)
    }
}

/// The inclusive pixel rectangle of a box, or nil when it is non-finite or
/// lies entirely outside the image.
private func pixelRectangle(_ box: DetectionBox, in image: RGBImage)
    -> (left: Int, top: Int, right: Int, bottom: Int)? {
    let coordinates = [box.x1, box.y1, box.x2, box.y2]
    guard coordinates.allSatisfy(\.isFinite) else { return nil }
    // Clamp before converting: Int(Float) traps beyond Int's range.
    let limit = Float(1 << 24)
    let c = coordinates.map { Int(min(max($0, -limit), limit).rounded()) }
    let left = min(c[0], c[2]), right = max(max(c[0], c[2]) - 1, left)
    let top = min(c[1], c[3]), bottom = max(max(c[1], c[3]) - 1, top)
    guard right >= 0, bottom >= 0, left < image.width, top < image.height else { return nil }
    return (left, top, right, bottom)
}

/// The caption sits on a filled band of the box colour just above the box, or
/// just inside its top edge when there is no room above; it is shifted left
/// to stay inside the image.
private func drawCaption(_ box: DetectionBox, above rect: (left: Int, top: Int, right: Int, bottom: Int),
                         on image: inout RGBImage, style: DetectionDrawingStyle) {
    let text = box.caption
    let padding = style.fontScale
    let size = RGBImage.textSize(text, scale: style.fontScale)
    let bandWidth = size.width + 2 * padding, bandHeight = size.height + 2 * padding
    var left = max(rect.left, 0)
    if left + bandWidth > image.width { left = max(image.width - bandWidth, 0) }
    var top = rect.top - bandHeight
    if top < 0 { top = max(rect.top, 0) }
    let background = DetectionPalette.color(forClass: box.classId)
    image.fillRectangle(left: left, top: top, right: left + bandWidth, bottom: top + bandHeight, color: background)
    image.drawText(text, x: left + padding, y: top + padding, scale: style.fontScale,
                   color: DetectionPalette.textColor(on: background))
}
