// POST /api/v1/predict: read the upload (limited), pick the model, decode and
// detect on a pool worker, answer predict's JSON line for the image. Errors:
// 400 bad image/option/form, 404 unknown model, 408 stalled body, 413 too large,
// 415 unsupported raw Content-Type, 503 queue full (Retry-After).

import ArgumentParser
import Foundation
import Hummingbird
import VisionDetection
import VisionImaging

struct PredictEndpoint: Sendable {
    let models: ServedModels
    let pool: DetectionWorkerPool
    let maxUploadBytes: Int
    let requestTimeout: Duration
    let maxPixels: Int

    func handle(_ request: Request, context: ServeRequestContext) async throws -> Response {
        // Turned away before the body is read when the pool is full now (checked again on submit).
        if pool.isFull { throw busy() }
        let body = try await UploadReader.read(request, limit: maxUploadBytes, timeout: requestTimeout)
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let options: PredictRequest
        do {
            options = try PredictRequest.parse(body: body, contentType: request.headers[.contentType], query: query)
        } catch let error as PredictRequestError {
            throw APIError(status: error.unsupportedMediaType ? .unsupportedMediaType : .badRequest, message: error.description)
        }

        guard let model = options.model.map({ models.named($0) }) ?? models.defaultModel else {
            throw APIError(status: .notFound, message: "unknown model '\(options.model ?? "")'; loaded: "
                + models.all.map(\.name).joined(separator: ", "))
        }
        let detector = model.detector
        let keepClass: @Sendable (Int) -> Bool
        do {
            let ids = options.onlyClass.isEmpty ? nil
                : try ClassFilter.resolve(options.onlyClass, option: "only_class", labels: detector.labels)
            keepClass = { ids?.contains($0) ?? true }
        } catch let error as ValidationError {
            throw APIError.badRequest(error.message)
        }

        let (image, file, maxPixels) = (options.image, options.file, self.maxPixels)
        let (minProb, maxDetections) = (options.minProb, options.maxDetections)
        let objects: [DetectedObject]
        do {
            objects = try await pool.run {
                let decoded = try ImageDecoder.decode(data: image, name: file, maxPixels: maxPixels)
                return detector.detect(prepared: detector.prepare(decoded), minProb: minProb,
                                       maxDetections: maxDetections, keepClass: keepClass)
            }
        } catch let error as ImageError {
            throw APIError.badRequest(error.description)
        } catch is DetectionWorkerPool.Busy {
            throw busy()
        } catch is DetectionWorkerPool.Stopped {
            var stopping = APIError(status: .serviceUnavailable, message: "the server is shutting down")
            stopping.headers[.retryAfter] = "5"
            throw stopping
        }
        return jsonResponse(JSONLines.line(file: file, objects: objects) + "\n")
    }

    private func busy() -> APIError {
        var error = APIError(status: .serviceUnavailable,
                             message: "busy: all \(pool.workers) detection workers and \(pool.queueCapacity) queue places are taken; retry shortly")
        error.headers[.retryAfter] = "1"
        return error
    }
}
