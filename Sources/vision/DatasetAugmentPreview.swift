// `vision dataset inspect --augment N -d DIR`: N training samples augmented as `vision
// train` would (same flags, same draws for the same seed), each written as
// DIR/augmented_NNNN.jpg at the size the model sees, with its boxes drawn, to look at.
// DIR must be new, empty, or hold only an earlier preview's files (which are replaced).

import ArgumentParser
import Foundation
import VisionData
import VisionDetection
import VisionImaging
import VisionTraining

extension DatasetInspect {
    static func isPreviewFile(_ name: String) -> Bool {
        name.hasPrefix("augmented_") && name.hasSuffix(".jpg")
    }

    /// Writes `count` augmented samples of `dataset`'s training split (or --split) into `directory`.
    func writeAugmentedSamples(_ dataset: DetectionDataset, count: Int, to directory: URL) throws {
        try preparePreviewFolder(directory)
        let name = split ?? (dataset.splits.contains("train") ? "train" : dataset.splits.first ?? "train")
        let records = try dataset.records(split: name).filter { $0.droppedObjects == 0 }
        guard !records.isEmpty else { throw ValidationError("--augment: split '\(name)' has no image to augment") }
        let config = try ModelConfig.load(name: model)
        var options = TrainingOptions()
        options.seed = seed
        augmentation.apply(to: &options, minSize: config.minSize)
        let preparation = StepPreparation(records: records, options: options, config: config, transform: DetectionTransform(config: config))
        let classes = ["__background__"] + dataset.classes
        var order = TrainingRNG(seed: seed, stream: 1, index: 0)
        let permutation = order.permutation(records.count)
        for k in 0..<count {
            let record = records[permutation[k % records.count]]
            let (image, boxes, labels) = try preparation.preview(record, index: k)
            var rgb = RGBImage(tensor: image)
            let drawn = (0..<boxes.count).map { i in
                let b = boxes[i]
                return DetectionBox(x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, label: classes[labels[i]], classId: labels[i], score: 1,
                                    showsScore: false)
            }
            drawDetections(on: &rgb, boxes: drawn)
            let file = directory.appendingPathComponent(String(format: "augmented_%04d.jpg", k + 1))
            try rgb.write(to: file, comment: "augmented \(record.imageURL.lastPathComponent)")
        }
        Standard.error("\(count) augmented samples of split '\(name)' (\(options.multiScaleSizes.map { "scales \($0.map(String.init).joined(separator: ","))" } ?? "no multi-scale"), "
                       + "photometric p \(options.photometricProbability ?? 0), IoU crop \(options.iouCrop == true ? "on" : "off")) in \(directory.path)")
    }

    private func preparePreviewFolder(_ directory: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            return try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        guard isDirectory.boolValue else { throw ValidationError("\(directory.path): -d needs a folder; this is a file") }
        let names = try fm.contentsOfDirectory(atPath: directory.path)
        let foreign = names.filter { !Self.isPreviewFile($0) }.sorted()
        guard foreign.isEmpty else {
            throw ValidationError("\(directory.path): holds files an augmentation preview did not write (\(foreign.prefix(3).joined(separator: ", "))"
                                  + "\(foreign.count > 3 ? ", ..." : "")); give a new or empty folder")
        }
        for name in names { try fm.removeItem(at: directory.appendingPathComponent(name)) }
    }
}
