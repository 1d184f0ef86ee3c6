// torchvision.transforms.v2.RandomPhotometricDistort on a [3, H, W] image in [0, 1]:
// each of brightness, contrast, saturation and hue is applied with probability p at a
// factor drawn uniformly from its range; contrast goes before or after saturation/hue
// (a fair coin); finally the channels are permuted with probability
// `channelPermutationProbability` (torchvision ties it to p; it is separate here because
// in stained micrographs colour is what tells the classes apart). Boxes are unchanged.
// The colour operations are torchvision's functional ones on float tensors (F_t):
// _blend clamps to [0, 1], grayscale is 0.2989 R + 0.587 G + 0.114 B, hue is shifted
// in HSV by _rgb2hsv / _hsv2rgb.

import Foundation
import VisionCore

public struct PhotometricDistort: Sendable, Equatable {
    public var probability: Float
    public var channelPermutationProbability: Float
    public var brightness: ClosedRange<Float> = 0.875...1.125
    public var contrast: ClosedRange<Float> = 0.5...1.5
    public var saturation: ClosedRange<Float> = 0.5...1.5
    public var hue: ClosedRange<Float> = -0.05...0.05

    public init(probability: Float, channelPermutationProbability: Float) {
        self.probability = probability
        self.channelPermutationProbability = channelPermutationProbability
    }

    /// One draw of the distortion's parameters (nil: that operation is skipped).
    public struct Parameters: Sendable, Equatable {
        public var brightness: Float?, contrast: Float?, saturation: Float?, hue: Float?
        public var contrastFirst: Bool
        public var channelPermutation: [Int]?

        public init(brightness: Float?, contrast: Float?, saturation: Float?, hue: Float?, contrastFirst: Bool, channelPermutation: [Int]?) {
            (self.brightness, self.contrast, self.saturation, self.hue) = (brightness, contrast, saturation, hue)
            self.contrastFirst = contrastFirst
            self.channelPermutation = channelPermutation
        }
    }

    /// Draws in torchvision's order: brightness, contrast, saturation, hue (each a coin
    /// then a factor), the contrast-first coin, then the permutation's coin and order.
    public func draw(_ rng: inout TrainingRNG) -> Parameters {
        func factor(_ range: ClosedRange<Float>) -> Float? {
            guard rng.uniform() < probability else { return nil }
            return range.lowerBound + (range.upperBound - range.lowerBound) * rng.uniform()
        }
        let b = factor(brightness), c = factor(contrast), s = factor(saturation), h = factor(hue)
        let contrastFirst = rng.uniform() < 0.5
        let permutation = rng.uniform() < channelPermutationProbability ? rng.permutation(3) : nil
        return Parameters(brightness: b, contrast: c, saturation: s, hue: h, contrastFirst: contrastFirst,
                          channelPermutation: permutation)
    }

    /// `image` [3, H, W] in [0, 1] distorted by `p` (a new tensor).
    public static func apply(_ p: Parameters, to image: Tensor) -> Tensor {
        precondition(image.rank == 3 && image.shape[0] == 3, "PhotometricDistort: expected [3, H, W], got \(image.shape)")
        let out = image.copy()
        let plane = image.shape[1] * image.shape[2]
        let px = out.storage.pointer
        if let b = p.brightness { blend(px, plane: plane, factor: b) { _ in 0 } }
        if let c = p.contrast, p.contrastFirst { adjustContrast(px, plane: plane, factor: c) }
        if let s = p.saturation { blend(px, plane: plane, factor: s) { gray($0) } }
        if let h = p.hue { adjustHue(px, plane: plane, shift: h) }
        if let c = p.contrast, !p.contrastFirst { adjustContrast(px, plane: plane, factor: c) }
        guard let order = p.channelPermutation else { return out }
        let permuted = Tensor(uninitializedShape: image.shape)
        for (c, source) in order.enumerated() {
            (permuted.storage.pointer + c * plane).update(from: px + source * plane, count: plane)
        }
        return permuted
    }

    /// torchvision's rgb_to_grayscale of one pixel.
    private static func gray(_ rgb: (r: Float, g: Float, b: Float)) -> Float { 0.2989 * rgb.r + 0.587 * rgb.g + 0.114 * rgb.b }

    /// _blend(img, other, f) = clamp(f * img + (1 - f) * other, 0, 1), `other` per pixel from its RGB.
    private static func blend(_ px: UnsafeMutablePointer<Float>, plane: Int, factor f: Float,
                              other: ((r: Float, g: Float, b: Float)) -> Float) {
        for i in 0..<plane {
            let o = other((px[i], px[plane + i], px[2 * plane + i]))
            for c in 0..<3 { px[c * plane + i] = min(max(f * px[c * plane + i] + (1 - f) * o, 0), 1) }
        }
    }

    /// adjust_contrast: blend with the image's mean grayscale value.
    private static func adjustContrast(_ px: UnsafeMutablePointer<Float>, plane: Int, factor: Float) {
        var sum: Double = 0
        for i in 0..<plane { sum += Double(gray((px[i], px[plane + i], px[2 * plane + i]))) }
        let mean = Float(sum / Double(plane))
        blend(px, plane: plane, factor: factor) { _ in mean }
    }

    /// adjust_hue: h -> (h + shift) mod 1 in HSV (torchvision's _rgb2hsv and _hsv2rgb).
    private static func adjustHue(_ px: UnsafeMutablePointer<Float>, plane: Int, shift: Float) {
        for i in 0..<plane {
            let r = px[i], g = px[plane + i], b = px[2 * plane + i]
            let maxc = max(r, g, b), minc = min(r, g, b)
            let equal = maxc == minc
            let cr = maxc - minc
            let s = cr / (equal ? 1 : maxc)
            let divisor = equal ? 1 : cr
            let rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor
            var h: Float
            if maxc == r { h = bc - gc } else if maxc == g { h = 2 + rc - bc } else { h = 4 + gc - rc }
            h = fmodf(h / 6 + 1, 1)
            h += shift
            h -= floorf(h)  // Python's % 1.0: into [0, 1)
            let v = maxc
            let sector = floorf(h * 6), f = h * 6 - sector
            let p = min(max(v * (1 - s), 0), 1)
            let q = min(max(v * (1 - s * f), 0), 1)
            let t = min(max(v * (1 - s * (1 - f)), 0), 1)
            let rgb: (Float, Float, Float)
            switch ((Int(sector) % 6) + 6) % 6 {
            case 0: rgb = (v, t, p)
            case 1: rgb = (q, v, p)
            case 2: rgb = (p, v, t)
            case 3: rgb = (p, q, v)
            case 4: rgb = (t, p, v)
            default: rgb = (v, p, q)
            }
            px[i] = rgb.0; px[plane + i] = rgb.1; px[2 * plane + i] = rgb.2
        }
    }
}
