// torchvision.transforms.v2.RandomIoUCrop (SSD's crop, references/detection): pick a
// minimum IoU from `options` (>= 1: leave the image as it is); up to `trials` times draw
// a crop of 0.3-1.0 of each side with aspect ratio 0.5-2, at a random position; keep it
// when some box centre lies strictly inside it and one of those boxes overlaps it by at
// least the minimum IoU. The kept boxes are those centres, shifted and clamped to the
// crop; the others are dropped with their labels. When no trial succeeds a new minimum
// is drawn (torchvision loops forever on an image without boxes; here such an image is
// returned as it is).

import Foundation
import VisionCore
import VisionDetection

public struct RandomIoUCrop: Sendable, Equatable {
    public var minScale: Float = 0.3
    public var maxScale: Float = 1.0
    public var minAspectRatio: Float = 0.5
    public var maxAspectRatio: Float = 2.0
    public var options: [Float] = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
    public var trials = 40

    public init() {}

    /// A crop in pixels of the original image: columns left..<right, rows top..<bottom.
    public struct Crop: Sendable, Equatable {
        public var left: Int, top: Int, right: Int, bottom: Int
        /// Indices of the boxes kept (centres inside the crop).
        public var kept: [Int]
    }

    /// The crop for an image of `width` x `height` with `boxes`, or nil to leave it as it is.
    public func draw(width: Int, height: Int, boxes: Boxes, _ rng: inout TrainingRNG) -> Crop? {
        guard !boxes.isEmpty, !options.isEmpty, options.contains(where: { $0 >= 1 }) else { return nil }
        while true {
            let minIoU = options[Int(rng.next() % UInt64(options.count))]
            if minIoU >= 1 { return nil }
            for _ in 0..<trials {
                let newW = Int(Float(width) * (minScale + (maxScale - minScale) * rng.uniform()))
                let newH = Int(Float(height) * (minScale + (maxScale - minScale) * rng.uniform()))
                guard newH > 0 else { continue }
                let aspect = Float(newW) / Float(newH)
                guard minAspectRatio <= aspect && aspect <= maxAspectRatio else { continue }
                let left = Int(Float(width - newW) * rng.uniform())
                let top = Int(Float(height - newH) * rng.uniform())
                let right = left + newW, bottom = top + newH
                guard left != right && top != bottom else { continue }
                var kept: [Int] = [], bestIoU: Float = 0
                for i in 0..<boxes.count {
                    let b = boxes[i]
                    let cx = 0.5 * (b.x1 + b.x2), cy = 0.5 * (b.y1 + b.y2)
                    guard Float(left) < cx && cx < Float(right) && Float(top) < cy && cy < Float(bottom) else { continue }
                    kept.append(i)
                    bestIoU = max(bestIoU, Self.iou(b, left: Float(left), top: Float(top), right: Float(right), bottom: Float(bottom)))
                }
                guard !kept.isEmpty, bestIoU >= minIoU else { continue }
                return Crop(left: left, top: top, right: right, bottom: bottom, kept: kept)
            }
        }
    }

    /// IoU of box `b` and the crop rectangle.
    public static func iou(_ b: (x1: Float, y1: Float, x2: Float, y2: Float), left: Float, top: Float, right: Float, bottom: Float) -> Float {
        let iw = max(0, min(b.x2, right) - max(b.x1, left)), ih = max(0, min(b.y2, bottom) - max(b.y1, top))
        let inter = iw * ih
        let union = (b.x2 - b.x1) * (b.y2 - b.y1) + (right - left) * (bottom - top) - inter
        return union > 0 ? inter / union : 0
    }

    /// `sample` cut to `crop`: pixels copied, kept boxes shifted by (-left, -top) and clamped to the crop.
    public static func apply(_ crop: Crop, to sample: TrainingSample) -> TrainingSample {
        let w = sample.image.shape[2], h = sample.image.shape[1]
        let newW = crop.right - crop.left, newH = crop.bottom - crop.top
        precondition(crop.left >= 0 && crop.top >= 0 && crop.right <= w && crop.bottom <= h, "RandomIoUCrop: crop outside the image")
        let out = Tensor(uninitializedShape: [3, newH, newW])
        let src = sample.image.storage.pointer, dst = out.storage.pointer
        for c in 0..<3 {
            for y in 0..<newH {
                (dst + (c * newH + y) * newW).update(from: src + (c * h + crop.top + y) * w + crop.left, count: newW)
            }
        }
        var boxes = Boxes()
        let l = Float(crop.left), t = Float(crop.top)
        for i in crop.kept {
            let b = sample.boxes[i]
            boxes.append(x1: min(max(b.x1 - l, 0), Float(newW)), y1: min(max(b.y1 - t, 0), Float(newH)),
                         x2: min(max(b.x2 - l, 0), Float(newW)), y2: min(max(b.y2 - t, 0), Float(newH)))
        }
        return TrainingSample(image: out, boxes: boxes, labels: crop.kept.map { sample.labels[$0] })
    }
}
