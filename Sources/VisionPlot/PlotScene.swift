// A chart as a list of drawing primitives in pixel coordinates (origin top-left).
// Every chart builds one scene; the scene is then written as SVG (for reports) or
// rasterised onto an RGBImage (for PNGs), so both outputs show the same picture.

import VisionImaging

public enum TextAnchor: Sendable { case start, middle, end }

public enum PlotItem: Sendable, Equatable {
    /// A line through `points`; `dashed` draws 6 on, 4 off.
    case polyline(points: [PlotPoint], color: RGBColor, width: Int, dashed: Bool)
    /// A rectangle [x, x + width) x [y, y + height), filled and/or outlined.
    case rectangle(x: Double, y: Double, width: Double, height: Double, fill: RGBColor?, stroke: RGBColor?)
    /// Text whose top edge is at `y`, anchored at `x`; `scale` 1 is the 5x8 font, 2 twice
    /// that; `vertical` turns it 90 degrees counter-clockwise (reading upwards) about (x, y).
    case text(String, x: Double, y: Double, anchor: TextAnchor, scale: Int, color: RGBColor, vertical: Bool)
    /// A filled circle (a data point marker).
    case dot(x: Double, y: Double, radius: Double, color: RGBColor)
}

public struct PlotPoint: Sendable, Equatable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

public struct PlotScene: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var items: [PlotItem] = []

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public mutating func add(_ item: PlotItem) { items.append(item) }

    public mutating func text(_ s: String, x: Double, y: Double, anchor: TextAnchor = .start, scale: Int = 1,
                              color: RGBColor = .black, vertical: Bool = false) {
        items.append(.text(s, x: x, y: y, anchor: anchor, scale: scale, color: color, vertical: vertical))
    }

    public mutating func line(_ points: [PlotPoint], color: RGBColor, width: Int = 1, dashed: Bool = false) {
        items.append(.polyline(points: points, color: color, width: width, dashed: dashed))
    }

    public mutating func rectangle(x: Double, y: Double, width: Double, height: Double,
                                   fill: RGBColor? = nil, stroke: RGBColor? = nil) {
        items.append(.rectangle(x: x, y: y, width: width, height: height, fill: fill, stroke: stroke))
    }
}

/// Colours of the charts (ColorBrewer-like, distinct on white).
public enum PlotPalette {
    public static let series: [RGBColor] = [
        RGBColor(r: 31, g: 119, b: 180), RGBColor(r: 255, g: 127, b: 14), RGBColor(r: 44, g: 160, b: 44),
        RGBColor(r: 214, g: 39, b: 40), RGBColor(r: 148, g: 103, b: 189), RGBColor(r: 140, g: 86, b: 75),
        RGBColor(r: 227, g: 119, b: 194), RGBColor(r: 127, g: 127, b: 127), RGBColor(r: 188, g: 189, b: 34),
        RGBColor(r: 23, g: 190, b: 207),
    ]
    public static let grid = RGBColor(r: 225, g: 225, b: 225)
    public static let axis = RGBColor(r: 60, g: 60, b: 60)
    public static let marker = RGBColor(r: 200, g: 30, b: 30)

    public static func color(_ index: Int) -> RGBColor { series[((index % series.count) + series.count) % series.count] }

    /// `color` mixed with white: `amount` 0 is the colour, 1 is white (raw data under a smoothed line).
    public static func light(_ color: RGBColor, _ amount: Double = 0.6) -> RGBColor {
        func mix(_ c: UInt8) -> UInt8 { UInt8(Double(c) + (255 - Double(c)) * amount) }
        return RGBColor(r: mix(color.r), g: mix(color.g), b: mix(color.b))
    }
}
