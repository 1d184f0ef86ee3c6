// Chooses the reader from what the path looks like.

import Foundation

extension DetectionDataset {
    /// Loads a dataset, detecting its format from `url`:
    /// - a folder with Annotations/ -> Pascal VOC;
    /// - a .json file, or a folder with annotations/instances_*.json -> COCO;
    /// - a .yaml file, or a folder with images/ + labels/ -> YOLO;
    /// - a .csv file, or a folder (or its data/) holding .csv files -> CSV.
    /// With `requireImages`, records whose image file is missing are skipped
    /// (and reported); without, they are kept (scoring saved predictions needs no pixels).
    public static func load(from url: URL, requireImages: Bool = true) throws -> DetectionDataset {
        let url = url.standardizedFileURL
        guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError.notFound(url.path) }
        if !isDirectory(url) {
            let parent = url.deletingLastPathComponent()
            switch url.pathExtension.lowercased() {
            case "json":
                return try COCOReader.load(root: parent, files: [(COCOReader.splitName(of: url), url)], requireImages: requireImages)
            case "csv":
                return try CSVReader.load(root: parent, files: [(CSVReader.splitName(of: url), url)], requireImages: requireImages)
            case "yaml", "yml":
                return try YOLOReader.load(root: parent, yaml: url, requireImages: requireImages)
            default:
                throw DatasetError.unrecognizedLayout(url.path, reason: "a file must be .json (COCO), .csv or .yaml (YOLO)")
            }
        }
        if VOCReader.looksLikeVOC(url) { return try VOCReader.load(root: url, requireImages: requireImages) }
        let cocoFiles = COCOReader.annotationFiles(in: url)
        if !cocoFiles.isEmpty { return try COCOReader.load(root: url, files: cocoFiles, requireImages: requireImages) }
        if YOLOReader.looksLikeYOLO(url) { return try YOLOReader.load(root: url, yaml: nil, requireImages: requireImages) }
        let csvFiles = CSVReader.csvFiles(in: url)
        if !csvFiles.isEmpty { return try CSVReader.load(root: url, files: csvFiles, requireImages: requireImages) }
        throw DatasetError.unrecognizedLayout(url.path, reason: "no Annotations/, annotations/*.json, images/+labels/ or .csv files")
    }
}
