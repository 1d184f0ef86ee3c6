// `vision dataset inspect PATH`: what a dataset holds and what is wrong with it.

import ArgumentParser
import Foundation
import VisionData

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
            The format is detected from the path: a folder with Annotations/ (Pascal VOC); a .json file or a \
            folder with annotations/instances_*.json (COCO); a .csv file or a folder with .csv files, \
            columns image_id,xmin,ymin,xmax,ymax,label or filename,width,height,class,xmin,ymin,xmax,ymax (CSV); \
            a folder with images/ and labels/ plus classes.txt or data.yaml (YOLO). Boxes of zero area or out \
            of bounds, missing images, unknown classes and unreadable files are listed as problems and skipped.
            """)

    @Argument(help: ArgumentHelp("The dataset folder or annotation file.", valueName: "path"))
    var path: String

    @Option(help: "Only this split (default: all).")
    var split: String?

    @Option(help: "How many problems to list (all are counted).")
    var maxProblems = 20

    func validate() throws {
        guard maxProblems >= 0 else { throw ValidationError("--max-problems must be >= 0") }
    }

    func run() throws {
        let dataset = try DetectionDataset.load(from: URL(fileURLWithPath: path))
        print(try dataset.inspectionReport(split: split, maxProblems: maxProblems))
    }
}
