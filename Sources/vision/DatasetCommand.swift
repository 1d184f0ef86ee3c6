// `vision dataset inspect PATH`: what a dataset holds and what is wrong with it.

import ArgumentParser
import Foundation
import VisionData
import VisionDetection

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Inspect detection datasets (Pascal VOC, COCO JSON, CSV, YOLO).",
        subcommands: [DatasetInspect.self])
}

struct DatasetInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Images and boxes per class and split, image sizes, and the problems found.",
        discussion: """
            The format is detected from the path: a folder with Annotations/ or annotations/ holding .xml files, \
            images in JPEGImages/, images/ or Images/, optional ImageSets/Main/ split lists (Pascal VOC); a .json \
            file or a folder with annotations/instances_*.json (COCO); a .csv file or a folder with .csv files, \
            columns image_id,xmin,ymin,xmax,ymax,label or filename,width,height,class,xmin,ymin,xmax,ymax (CSV; a \
            row with empty box fields is an image without objects); a folder with images/ and labels/ plus \
            classes.txt or data.yaml (YOLO). A folder with VOC XMLs but no split lists beside CSV files is read \
            from the CSVs, which name the splits. Other layouts: --images DIR --annotations PATH, where PATH is a \
            folder of VOC .xml files, a COCO .json, a .csv, or a folder of YOLO .txt labels.

            Image sizes come from the image files (EXIF orientation applied); an annotated size that differs \
            is reported. A box passing the image border by up to 2% of the side (at least 2 pixels) is clipped \
            and reported; further out, of zero area, of an unknown class, or unreadable, it is dropped and \
            reported, and training leaves its image out. Missing images and unreadable files are listed as \
            problems and skipped. Only image headers are read unless --decode is given.

            --report DIR also writes report.html: boxes and images per class and split, histograms of box \
            width, height and aspect ratio at the model's input scale against its anchors (--model), image \
            sizes and the problems. DIR must be new, empty, or an earlier dataset report's folder.

            Examples:
              vision dataset inspect Samples/bccd
              vision dataset inspect Samples/bccd --report bccd-dataset-report
              vision dataset inspect Samples/bccd --augment 8 -d bccd-augmented --iou-crop
            """)

    @Argument(help: ArgumentHelp("The dataset folder or annotation file.", valueName: "path"))
    var path: String?

    @Option(help: ArgumentHelp("The images folder, with --annotations, for layouts not detected from one path.", valueName: "dir"))
    var images: String?

    @Option(help: ArgumentHelp("Pascal VOC .xml folder, COCO .json, .csv, or YOLO labels folder, with --images.", valueName: "path"))
    var annotations: String?

    @Option(help: "Only this split (default: all).")
    var split: String?

    @Option(help: "How many problems to list (all are counted).")
    var maxProblems = 20

    @Flag(help: "Decode every image (slow) to find truncated or corrupt files, not only unreadable headers.")
    var decode = false

    @Option(help: ArgumentHelp("Also write report.html (charts of classes, box sizes against the model's anchors, image "
                               + "sizes, problems) into this folder: a new or empty one, or an earlier dataset report's.", valueName: "dir"))
    var report: String?

    @Option(help: ArgumentHelp("The architecture whose anchors the report's box sizes are drawn against.", valueName: "name"))
    var model = "fasterrcnn_mobilenet_v2_fpn"

    @Option(help: "Threads decoding images with --decode (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp("Write this many training samples augmented as `vision train` would (with the augmentation flags below), boxes drawn, into -d DIR.", valueName: "N"))
    var augment: Int?

    @Option(name: [.customShort("d"), .customLong("augment-dir")], help: ArgumentHelp("The folder --augment writes into (new, empty, or an earlier preview's).", valueName: "dir"))
    var augmentDirectory: String?

    @Option(help: "Seed of the --augment draws (as vision train --seed).")
    var seed: UInt64 = 0

    @OptionGroup var augmentation: TrainAugmentationOptions

    func validate() throws {
        guard maxProblems >= 0 else { throw ValidationError("--max-problems must be >= 0") }
        if let augment {
            guard augment >= 1 else { throw ValidationError("--augment must be >= 1") }
            guard augmentDirectory != nil else { throw ValidationError("--augment N needs -d DIR, the folder to write the samples into") }
        } else if augmentDirectory != nil {
            throw ValidationError("-d is the folder of --augment N's samples; add --augment N")
        }
        try augmentation.validate()
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        _ = try DatasetSource(path: path, images: images, annotations: annotations)
        guard ModelConfig.names.contains(model) else {
            throw ValidationError("unknown --model '\(model)'; valid: \(ModelConfig.names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let folder = report.map {
            ReportFolder(url: URL(fileURLWithPath: $0), generator: DatasetReport.generator, isReportFile: DatasetReport.isReportFile)
        }
        let config = try folder.map { _ in try ModelConfig.load(name: model) }
        try folder?.prepare()
        var dataset = try DatasetSource(path: path, images: images, annotations: annotations).load()
        if decode { dataset = dataset.checkingImageDecoding(threads: kernelThreads(threads)) }
        let text = try dataset.inspectionReport(split: split, maxProblems: maxProblems)
        print(text)
        if let augment, let augmentDirectory {
            try writeAugmentedSamples(dataset, count: augment, to: URL(fileURLWithPath: augmentDirectory))
        }
        if let folder, let config {
            let page = try DatasetReport(dataset: dataset, split: split, model: config, text: text).html()
            try folder.write(Data(page.utf8), to: "report.html")
            Standard.error("report: \(folder.url.appendingPathComponent("report.html").path)")
        }
    }
}

/// Where a command's dataset is: one path (format detected), or an images folder
/// and an annotations path named apart. Shared by `dataset inspect` and `eval`.
struct DatasetSource {
    enum Place {
        case path(String)
        case parts(images: String, annotations: String)
    }

    let place: Place

    /// Throws a usage error unless exactly one of the two ways is given.
    init(path: String?, images: String?, annotations: String?, pathOption: String = "the dataset path") throws {
        switch (path, images, annotations) {
        case let (path?, nil, nil): place = .path(path)
        case let (nil, images?, annotations?): place = .parts(images: images, annotations: annotations)
        case (nil, nil, nil): throw ValidationError("give \(pathOption), or --images DIR with --annotations PATH")
        case (nil, _, _): throw ValidationError("--images and --annotations go together; give both")
        default: throw ValidationError("give either \(pathOption) or --images/--annotations, not both")
        }
    }

    /// A dataset recorded in a run's options (`datasetPath`, and `datasetImages` when it
    /// was given as --images/--annotations); nil when none was recorded.
    init?(recorded path: String?, images: String?) throws {
        guard let path else { return nil }
        place = images.map { .parts(images: $0, annotations: path) } ?? .path(path)
    }

    /// What a run records: the dataset path (or the annotations) made absolute, and the images folder.
    var recorded: (path: String, images: String?) {
        func absolute(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }
        switch place {
        case let .path(path): return (absolute(path), nil)
        case let .parts(images, annotations): return (absolute(annotations), absolute(images))
        }
    }

    /// How to name it in messages.
    var description: String {
        switch place {
        case let .path(path): return path
        case let .parts(images, annotations): return "--images \(images) --annotations \(annotations)"
        }
    }

    func load(requireImages: Bool = true, boxes: BoxPolicy = .fitToImage) throws -> DetectionDataset {
        switch place {
        case let .path(path):
            return try DetectionDataset.load(from: URL(fileURLWithPath: path), requireImages: requireImages, boxes: boxes)
        case let .parts(images, annotations):
            return try DetectionDataset.load(images: URL(fileURLWithPath: images), annotations: URL(fileURLWithPath: annotations),
                                             requireImages: requireImages, boxes: boxes)
        }
    }
}
