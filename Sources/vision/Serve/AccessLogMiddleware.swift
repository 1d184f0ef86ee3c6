// One access log line per request on standard error (swift-log), and the request
// metrics. Runs outside the JSON error middleware, so it sees the final status
// of every answer, errors included.

import Foundation
import Hummingbird
import Logging

struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = ServeRequestContext
    let logger: Logger
    let metrics: ServeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.requestStarted()
        let endpoint = ServeMetrics.endpoint(for: request.uri.path)
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            // The error middleware answers everything; this is only a safety net.
            response = APIError(status: .internalServerError, message: "internal error: \(error)").response()
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.requestFinished(endpoint: endpoint, status: response.status.code, seconds: seconds)
        logger.info("\(context.remoteAddress) \(request.method) \(request.uri) \(response.status.code) \(String(format: "%.1f", seconds * 1000)) ms")
        return response
    }
}
