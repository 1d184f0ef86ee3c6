// Errors that stop a dataset from loading at all. Problems with single files,
// records or boxes are not errors: they are collected as DatasetProblem.

import VisionCore

/// A dataset cannot be read. `description` names the path and the problem.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case unrecognizedLayout(String, reason: String)
    case unreadable(String, reason: String)
    case unknownSplit(String, split: String, known: [String])
    case splitRequired(String, known: [String])
    case noClasses(String, reason: String)

    /// One line: names quoted from files have their control characters escaped.
    public var description: String { singleLine(message) }

    private var message: String {
        switch self {
        case let .notFound(path):
            return "\(path): no such file or folder"
        case let .unrecognizedLayout(path, reason):
            return "\(path): not a recognised dataset (\(reason)); expected Pascal VOC (Annotations/ or annotations/ "
                + "with .xml files, JPEGImages/ or images/, optional ImageSets/Main/), COCO JSON, CSV (image_id,xmin,ymin,xmax,ymax,label or "
                + "filename,width,height,class,xmin,ymin,xmax,ymax) or YOLO (images/, labels/, classes.txt or data.yaml)"
        case let .unreadable(path, reason):
            return "\(path): \(reason)"
        case let .unknownSplit(path, split, known):
            return "\(path): no split '\(split)' (splits: \(known.joined(separator: ", ")))"
        case let .splitRequired(path, known):
            return "\(path): several splits (\(known.joined(separator: ", "))); choose one with --split"
        case let .noClasses(path, reason):
            return "\(path): no class names: \(reason)"
        }
    }
}
