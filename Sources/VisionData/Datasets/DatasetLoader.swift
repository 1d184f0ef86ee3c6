// Chooses the reader from what the path looks like, or from an images folder
// and an annotations path named separately.

import Foundation

extension DetectionDataset {
    /// Loads a dataset, detecting its format from `url`:
    /// - a folder with Annotations/ or annotations/ holding .xml files -> Pascal VOC
    ///   (images in JPEGImages/, images/ or Images/; splits from ImageSets/Main/);
    /// - a .json file, or a folder with annotations/instances_*.json -> COCO;
    /// - a .yaml file, or a folder with images/ + labels/ -> YOLO;
    /// - a .csv file, or a folder (or its data/) holding .csv files -> CSV.
    /// A folder holding both VOC XMLs without split lists and CSV files (the raccoon
    /// dataset) is read from the CSVs, which carry the author's train/test split;
    /// `notes` says so and how to read the XMLs instead.
    /// With `requireImages`, records whose image file is missing are skipped
    /// (and reported); without, they are kept (scoring saved predictions needs no pixels).
    public static func load(from url: URL, requireImages: Bool = true, boxes: BoxPolicy = .fitToImage) throws -> DetectionDataset {
        let reading = DatasetReading(requireImages: requireImages, boxes: boxes)
        let url = url.standardizedFileURL
        guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError.notFound(url.path) }
        if !isDirectory(url) {
            let parent = url.deletingLastPathComponent()
            switch url.pathExtension.lowercased() {
            case "json":
                return try COCOReader.load(root: parent, files: [(COCOReader.splitName(of: url), url)], reading: reading)
            case "csv":
                return try CSVReader.load(root: parent, files: [(CSVReader.splitName(of: url), url)], reading: reading)
            case "yaml", "yml":
                return try YOLOReader.load(root: parent, yaml: url, reading: reading)
            default:
                throw DatasetError.unrecognizedLayout(url.path, reason: "a file must be .json (COCO), .csv or .yaml (YOLO)")
            }
        }
        if let voc = VOCReader.layout(of: url) {
            let csvFiles = CSVReader.csvFiles(in: url)
            if voc.hasSplitLists || csvFiles.isEmpty { return try VOCReader.load(voc, reading: reading) }
            var dataset = try CSVReader.load(root: url, files: csvFiles, reading: reading)
            dataset.notes.append("read from the CSV files, which name the splits; the Pascal VOC XMLs in \(voc.annotations.path) "
                + "(no ImageSets/Main split lists) were not read: read them with --images \(voc.imageDirectories[0].path) "
                + "--annotations \(voc.annotations.path)")
            return dataset
        }
        let cocoFiles = COCOReader.annotationFiles(in: url)
        if !cocoFiles.isEmpty { return try COCOReader.load(root: url, files: cocoFiles, reading: reading) }
        if YOLOReader.looksLikeYOLO(url) { return try YOLOReader.load(root: url, yaml: nil, reading: reading) }
        let csvFiles = CSVReader.csvFiles(in: url)
        if !csvFiles.isEmpty { return try CSVReader.load(root: url, files: csvFiles, reading: reading) }
        throw DatasetError.unrecognizedLayout(url.path, reason: "no Annotations/ or annotations/ of .xml files, annotations/*.json, "
            + "images/+labels/ or .csv files; name the parts with --images DIR --annotations PATH")
    }

    /// Loads the images of the folder `images` with the annotations at `annotations`:
    /// - a folder of Pascal VOC .xml files (split lists from ImageSets/Main beside
    ///   that folder when present, else one split "all");
    /// - a COCO .json file, or a folder of them (one split each);
    /// - a CSV .csv file, or a folder of them (one split each);
    /// - a folder of YOLO .txt label files (one split "all"; class names from
    ///   classes.txt or obj.names in that folder or the one above, or data.yaml there).
    /// Image names in the annotations are looked up in `images` only (VOC also
    /// follows an existing <path>).
    public static func load(images: URL, annotations: URL, requireImages: Bool = true,
                            boxes: BoxPolicy = .fitToImage) throws -> DetectionDataset {
        let reading = DatasetReading(requireImages: requireImages, boxes: boxes)
        let (images, annotations) = (images.standardizedFileURL, annotations.standardizedFileURL)
        for path in [images, annotations] where !FileManager.default.fileExists(atPath: path.path) {
            throw DatasetError.notFound(path.path)
        }
        guard isDirectory(images) else {
            throw DatasetError.unrecognizedLayout(images.path, reason: "--images must be a folder of images")
        }
        let parent = annotations.deletingLastPathComponent()
        if !isDirectory(annotations) {
            switch annotations.pathExtension.lowercased() {
            case "json":
                return try COCOReader.load(root: parent, files: [(COCOReader.splitName(of: annotations), annotations)],
                                           reading: reading, imageDirectory: images)
            case "csv":
                return try CSVReader.load(root: parent, files: [(CSVReader.splitName(of: annotations), annotations)],
                                          reading: reading, imageDirectory: images)
            default:
                throw DatasetError.unrecognizedLayout(annotations.path, reason: "an annotations file must be .json (COCO) or .csv; "
                    + "Pascal VOC and YOLO annotations are folders")
            }
        }
        let files = listDirectory(annotations)
        func named(_ ext: String) -> [URL] { files.filter { $0.pathExtension.lowercased() == ext } }
        if VOCReader.holdsXML(annotations) {
            return try VOCReader.load(VOCLayout(annotations: annotations, imageDirectories: [images], root: parent),
                                      reading: reading)
        }
        if !named("json").isEmpty {
            let split = named("json").map { (COCOReader.splitName(of: $0), $0) }.sorted { DetectionDataset.splitOrder($0.0, $1.0) }
            return try COCOReader.load(root: parent, files: split, reading: reading, imageDirectory: images)
        }
        if !named("csv").isEmpty {
            let split = named("csv").map { (CSVReader.splitName(of: $0), $0) }.sorted { DetectionDataset.splitOrder($0.0, $1.0) }
            return try CSVReader.load(root: parent, files: split, reading: reading, imageDirectory: images)
        }
        if !named("txt").isEmpty { return try YOLOReader.load(images: images, labels: annotations, reading: reading) }
        throw DatasetError.unrecognizedLayout(annotations.path, reason: "no .xml (Pascal VOC), .json (COCO), .csv or .txt (YOLO) "
            + "annotation files in the folder")
    }
}
