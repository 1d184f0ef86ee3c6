// Every error the server answers is {"error": "<one line>"} with a 4xx/5xx status,
// including the router's own 404/405 and Hummingbird's parse errors: the
// JSONErrorMiddleware turns whatever a handler throws into that shape.

import Foundation
import Hummingbird
import VisionCore

struct APIError: Error, CustomStringConvertible {
    let status: HTTPResponse.Status
    let message: String
    /// Extra response headers (Retry-After on 503).
    var headers: HTTPFields = [:]

    var description: String { message }

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, message: message) }

    func response() -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"error\": " + jsonStringLiteral(message) + "}\n")))
    }
}

struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let error as HTTPResponseError {
            // Router 404/405, Hummingbird's own 413 and the like.
            let message: String
            switch error.status {
            case .notFound: message = "no such endpoint: \(request.method) \(request.uri.path)"
            case .methodNotAllowed: message = "\(request.method) is not allowed on \(request.uri.path)"
            default: message = error.status.reasonPhrase
            }
            return APIError(status: error.status, message: message).response()
        } catch {
            return APIError(status: .internalServerError, message: "internal error: \(error)").response()
        }
    }
}

/// A JSON body written by hand (fixed key order, predict's number format).
func jsonResponse(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
             body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}
