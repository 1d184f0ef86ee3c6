// What one POST /api/v1/predict asks for: the image bytes (the raw body, or the
// multipart field `image`) and the options model, min_prob, max_detections and
// only_class, as query parameters or form fields (a form field wins). Invalid
// values are 400s that name the option, as predict's argument errors do.
// Plain Foundation (no Hummingbird): PredictEndpoint turns a PredictRequestError
// into its HTTP answer, and Tests/Fuzz builds this file on its own.

import Foundation
import VisionCore

/// Why a predict request was refused: 415 for an unsupported raw Content-Type, else 400.
struct PredictRequestError: Error, CustomStringConvertible {
    let unsupportedMediaType: Bool
    let description: String

    /// `message` quotes the client's names and values: kept on one line.
    init(unsupportedMediaType: Bool, description message: String) {
        self.unsupportedMediaType = unsupportedMediaType
        description = singleLine(message)
    }

    static func badRequest(_ message: String) -> PredictRequestError {
        PredictRequestError(unsupportedMediaType: false, description: message)
    }
}

struct PredictRequest {
    var image: Data
    /// The "file" value of the answer: the uploaded file's name, else "upload".
    var file: String
    var model: String?
    var minProb: Float = 0.5
    var maxDetections: Int = 100
    var onlyClass: [String] = []

    static let imageField = "image"

    /// Builds the request from a body already read within the upload limit.
    static func parse(body: Data, contentType: String?, query: [(String, String)]) throws -> PredictRequest {
        var fields = query
        var image: Data, file = "upload"
        if let contentType, let boundary = MultipartForm.boundary(contentType: contentType) {
            let parts: [MultipartPart]
            do {
                parts = try MultipartForm.parse(body, boundary: boundary)
            } catch let error as MultipartError {
                throw PredictRequestError.badRequest(error.description)
            }
            guard let imagePart = parts.first(where: { $0.name == imageField }) else {
                throw PredictRequestError.badRequest("the multipart form has no field '\(imageField)' (send the image as -F image=@photo.jpg)")
            }
            image = imagePart.body
            if let name = imagePart.filename, !name.isEmpty { file = name }
            for part in parts where part.name != imageField && part.filename == nil {
                fields.append((part.name, String(decoding: part.body, as: UTF8.self)))
            }
        } else {
            if let contentType, !acceptedRawType(contentType) {
                throw PredictRequestError(unsupportedMediaType: true,
                                          description: "unsupported Content-Type '\(contentType)': send image/jpeg, image/png, application/octet-stream or multipart/form-data")
            }
            image = body
            if let name = fields.last(where: { $0.0 == "file" })?.1, !name.isEmpty { file = name }
        }
        var request = PredictRequest(image: image, file: file)
        try request.apply(fields)
        return request
    }

    /// Raw bodies: image types and the generic binary type (curl --data-binary sends
    /// application/x-www-form-urlencoded unless told otherwise, so that is taken too).
    private static func acceptedRawType(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return type.hasPrefix("image/") || type == "application/octet-stream" || type == "application/x-www-form-urlencoded"
            || type.isEmpty
    }

    private mutating func apply(_ fields: [(String, String)]) throws {
        for (key, value) in fields {
            switch key {
            case "model":
                model = value
            case "min_prob":
                guard let p = Float(value), p >= 0, p <= 1 else {
                    throw PredictRequestError.badRequest("min_prob must be a number within 0...1, got '\(value)'")
                }
                minProb = p
            case "max_detections":
                guard let n = Int(value), n >= 1 else {
                    throw PredictRequestError.badRequest("max_detections must be an integer of at least 1, got '\(value)'")
                }
                maxDetections = n
            case "only_class":
                // Repeatable, or comma-separated.
                onlyClass += value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            case "file":
                break
            default:
                throw PredictRequestError.badRequest("unknown option '\(key)'; valid: model, min_prob, max_detections, only_class")
            }
        }
    }
}
