// Assembles `vision serve`: the routes, the middleware (access log + metrics
// outermost, then JSON errors), and a Hummingbird Application run as a service
// group that shuts down gracefully on SIGTERM/SIGINT: the listener closes, the
// requests in flight finish and are answered, then the process exits.

import Foundation
import Hummingbird
import Logging
import NIOCore

struct VisionServer {
    struct Settings {
        var host: String
        var port: Int
        var maxUploadBytes: Int
        var requestTimeout: Duration
        var maxPixels: Int
        var workers: Int
        var queueCapacity: Int
    }

    let models: ServedModels
    let settings: Settings
    let logger: Logger

    func router(metrics: ServeMetrics, pool: DetectionWorkerPool) -> Router<ServeRequestContext> {
        let router = Router(context: ServeRequestContext.self)
        router.add(middleware: AccessLogMiddleware(logger: logger, metrics: metrics))
        router.add(middleware: JSONErrorMiddleware())

        let predict = PredictEndpoint(models: models, pool: pool, maxUploadBytes: settings.maxUploadBytes,
                                      requestTimeout: settings.requestTimeout, maxPixels: settings.maxPixels)
        router.post("/api/v1/predict") { request, context in try await predict.handle(request, context: context) }
        // A browser or a mistyped curl GETs it: say how it is called rather than "not found".
        router.get("/api/v1/predict") { _, _ -> Response in
            var error = APIError(status: .methodNotAllowed,
                                 message: "use POST /api/v1/predict with an image (raw body, or multipart field 'image')")
            error.headers[.allow] = "POST"
            throw error
        }
        let listing = models.listingJSON()
        router.get("/api/v1/models") { _, _ in jsonResponse(listing) }
        router.get("/api/v1/openapi.json") { _, _ in jsonResponse(OpenAPIDocument.json) }
        router.get("/healthz") { _, _ in
            jsonResponse("{\"status\": \"ok\", \"models\": \(models.all.count), \"queue_length\": \(pool.queueLength)}\n")
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: WebPage.html)))
        }
        return router
    }

    /// Serves until SIGTERM or SIGINT; `onListening` gets the bound port (for --port 0).
    func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let metrics = ServeMetrics()
        let pool = DetectionWorkerPool(workers: settings.workers, queueCapacity: settings.queueCapacity) { queued, running in
            metrics.workersChanged(queued: queued, running: running)
        }
        defer { pool.stop() }
        let bodyTimeout = TimeAmount.seconds(settings.requestTimeout.components.seconds)
        // Idle connections (and heads that never finish) are closed a little after a stalled
        // body is answered with 408, so the two timers never race.
        let idleTimeout = bodyTimeout + .seconds(5)
        let app = Application(
            router: router(metrics: metrics, pool: pool),
            // The handlers are an autoclosure: made anew for each connection.
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ExpectContinueHandler(maxUploadBytes: settings.maxUploadBytes),
                                            RequestBodyTimeoutHandler(timeout: bodyTimeout)],
                idleTimeout: idleTimeout)),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "vision"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService()  // graceful on SIGTERM and SIGINT
    }
}
