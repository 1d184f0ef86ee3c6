// RGBImage: the decoded-image value type, and its conversions to and from the
// Float32 tensors the detector consumes.

import VisionCore

/// One 8-bit RGB colour.
public struct RGBColor: Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r; self.g = g; self.b = b
    }

    public static let black = RGBColor(r: 0, g: 0, b: 0)
    public static let white = RGBColor(r: 255, g: 255, b: 255)
}

/// An 8-bit RGB image. `pixels` holds `width * height * 3` bytes, interleaved
/// RGB, row-major: the byte of channel c at (x, y) is `pixels[(y * width + x) * 3 + c]`.
public struct RGBImage: Hashable, Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)x\(height)")
        precondition(pixels.count == width * height * 3,
                     "\(width)x\(height) RGB needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with one colour.
    public init(width: Int, height: Int, color: RGBColor = .black) {
        precondition(width >= 0 && height >= 0, "negative image size \(width)x\(height)")
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    public subscript(x: Int, y: Int) -> RGBColor {
        get {
            let i = (y * width + x) * 3
            return RGBColor(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b
        }
    }

    /// The image as a Float32 tensor of shape [1, 3, height, width] (NCHW,
    /// planar RGB) with values x / 255 in [0, 1], as torchvision feeds its
    /// detection models.
    public func toTensor() -> Tensor {
        let planeSize = width * height
        let tensor = Tensor(uninitializedShape: [1, 3, height, width])
        let out = tensor.storage.pointer
        pixels.withUnsafeBufferPointer { source in
            guard let src = source.baseAddress else { return }
            for i in 0..<planeSize {
                let s = i &* 3
                out[i] = Float(src[s]) / 255
                out[planeSize &+ i] = Float(src[s &+ 1]) / 255
                out[2 &* planeSize &+ i] = Float(src[s &+ 2]) / 255
            }
        }
        return tensor
    }

    /// The inverse of `toTensor()`: takes [1, 3, H, W] or [3, H, W] values in
    /// [0, 1], scales by 255, rounds to nearest and clamps to 0...255.
    public init(tensor: Tensor) {
        let shape = tensor.shape
        precondition((shape.count == 4 && shape[0] == 1 && shape[1] == 3) || (shape.count == 3 && shape[0] == 3),
                     "expected a [1,3,H,W] or [3,H,W] tensor, got \(shape)")
        let height = shape[shape.count - 2], width = shape[shape.count - 1]
        let planeSize = width * height
        var pixels = [UInt8](repeating: 0, count: planeSize * 3)
        let src = tensor.storage.pointer
        pixels.withUnsafeMutableBufferPointer { destination in
            guard let out = destination.baseAddress else { return }
            for i in 0..<planeSize {
                for c in 0..<3 {
                    let value = src[c &* planeSize &+ i] * 255
                    // NaN fails both comparisons and lands on 0.
                    let clamped = value >= 255 ? 255 : (value > 0 ? value.rounded() : 0)
                    out[i &* 3 &+ c] = UInt8(clamped)
                }
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}
