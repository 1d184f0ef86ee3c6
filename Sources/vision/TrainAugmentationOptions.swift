// `vision train`'s augmentation flags (also `vision dataset inspect --augment`'s): parsed,
// checked, and turned into TrainingOptions (saved in the run's checkpoint, so --resume
// replays them).

import ArgumentParser
import Foundation
import VisionTraining

struct TrainAugmentationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Multi-scale training: each image's shorter side drawn from this comma-separated list, or 'none' (default: the model's size x 0.8, 0.9, 1, 1.1, 1.2, in multiples of 16).", valueName: "sizes"))
    var scales: String?
    @Option(help: "Photometric distortion (brightness, contrast, saturation, hue, each with this probability; 0: off; default: 0.5).")
    var photometric: Float?
    @Option(help: "Probability of permuting the colour channels (default: 0; colour often tells classes apart).")
    var channelShuffle: Float?
    @Flag(help: "SSD's random IoU crop (torchvision's RandomIoUCrop; zooms in: default off).")
    var iouCrop = false

    static let defaultPhotometric: Float = 0.5
    static let defaultScaleFactors: [Double] = [0.8, 0.9, 1.0, 1.1, 1.2]

    /// The --scales list (nil: not given; []: 'none').
    func scaleList() throws -> [Int]? {
        guard let scales else { return nil }
        if scales == "none" { return [] }
        let sizes = scales.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 32 }) else {
            throw ValidationError("--scales '\(scales)': expected sizes >= 32 separated by commas (e.g. 384,480,576), or 'none'")
        }
        return sizes.map { $0! }
    }

    func validate() throws {
        _ = try scaleList()
        for (flag, p) in [("--photometric", photometric), ("--channel-shuffle", channelShuffle)] {
            if let p, !(0...1).contains(p) { throw ValidationError("\(flag) must be a probability in 0...1 (got \(p))") }
        }
    }

    /// The default scales around a model's shorter side `minSize`.
    static func defaultScales(minSize: Int) -> [Int] {
        defaultScaleFactors.map { Int((Double(minSize) * $0 / 16).rounded()) * 16 }
    }

    /// Sets the augmentations of a new run.
    func apply(to options: inout TrainingOptions, minSize: Int) {
        let sizes = (try? scaleList()) ?? nil
        let chosen = sizes ?? Self.defaultScales(minSize: minSize)
        options.multiScaleSizes = chosen.isEmpty ? nil : chosen
        options.photometricProbability = photometric ?? Self.defaultPhotometric
        options.channelPermutationProbability = channelShuffle ?? 0
        options.iouCrop = iouCrop
    }

    /// The flags that would change a resumed run's augmentations.
    var givenFlags: [String] {
        [("--scales", scales != nil), ("--photometric", photometric != nil), ("--channel-shuffle", channelShuffle != nil),
         ("--iou-crop", iouCrop)].filter(\.1).map(\.0)
    }
}
