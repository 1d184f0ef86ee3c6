// `vision serve`: the web demo and the HTTP API (Sources/vision/Serve/), one
// process serving one or several models on Hummingbird.

import ArgumentParser
import Foundation
import Logging
import NIOCore
import VisionCore
import VisionDetection

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web demo and the HTTP detection API.",
        discussion: """
            Open http://127.0.0.1:5000/ in a browser, or call the API, e.g. \
            curl -F image=@Samples/bccd/JPEGImages/BloodImage_00007.jpg http://127.0.0.1:5000/api/v1/predict \
            (or a raw body: curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL). \
            POST /api/v1/predict answers the JSON object `vision predict` writes for one image; options \
            model, min_prob, max_detections, only_class go in the query or the form. \
            GET /api/v1/models, /api/v1/openapi.json, /healthz, /metrics (Prometheus).

            Detection runs on --max-concurrent workers with --threads compute threads each; up to \
            --max-queue requests wait, later ones get 503 with Retry-After. SIGTERM or Ctrl-C stops \
            accepting, finishes the requests in flight, then exits. Access log on standard error.
            """)

    @Option(help: ArgumentHelp("A checkpoint to serve: a file, a published model name or alias (fast, accurate; downloaded on first use) or bccd (repeatable; the first is the default model). Default: bccd, the shipped Models/default.safetensors.", valueName: "path|name"))
    var checkpoint: [String] = []

    @Option(help: ArgumentHelp("Architecture, where a checkpoint's keys allow two (the 320 MobileNet variant): \(ModelConfig.names.joined(separator: ", ")). Once for every checkpoint, or once per --checkpoint in order.", valueName: "name"))
    var model: [String] = []

    @Option(help: "Address to listen on (0.0.0.0: every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port = 5000

    @Option(help: "Compute threads per detection (default: cores / --max-concurrent).")
    var threads: Int?

    @OptionGroup var compute: BackendOption

    @Option(name: .customLong("max-concurrent"), help: "Detections run at once (worker threads).")
    var maxConcurrent = 1

    @Option(name: .customLong("max-queue"), help: "Predict requests that may wait for a worker; more get 503.")
    var maxQueue = 16

    @Option(name: .customLong("max-upload-mb"), help: "Largest request body, in MB (1 MB = 2^20 bytes); larger gets 413.")
    var maxUploadMB: Double = 20

    @Option(name: .customLong("max-megapixels"), help: "Largest image, in megapixels, judged from its header before decoding.")
    var maxMegapixels: Double = 50

    @Option(name: .customLong("request-timeout"), help: "Seconds a client may take to send a request body (408 after), and a connection may stay idle.")
    var requestTimeout = 30

    func validate() throws {
        for model in model where !ModelConfig.names.contains(model) {
            throw ValidationError("unknown --model '\(model)'; valid: \(ModelConfig.names.joined(separator: ", "))")
        }
        guard model.count <= 1 || model.count == max(1, checkpoint.count) else {
            throw ValidationError("--model was given \(model.count) times for \(checkpoint.count) --checkpoint: give it once, or once per checkpoint")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be within 0...65535, got \(port)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1, got \(maxConcurrent)") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be at least 0, got \(maxQueue)") }
        guard maxUploadMB > 0 else { throw ValidationError("--max-upload-mb must be positive, got \(maxUploadMB)") }
        guard maxMegapixels > 0 else { throw ValidationError("--max-megapixels must be positive, got \(maxMegapixels)") }
        guard requestTimeout >= 1 else { throw ValidationError("--request-timeout must be at least 1 second, got \(requestTimeout)") }
    }

    func run() throws {
        let perDetection = threads ?? max(1, KernelThreads.allCores.count / maxConcurrent)
        let backend = try compute.make(threads: KernelThreads(perDetection))
        let models = try ServedModels.load(checkpoints: checkpoint, architectures: model, backend: backend)
        let logger = Logger(label: "vision.serve") { StreamLogHandler.standardError(label: $0) }
        let server = VisionServer(
            models: models,
            settings: .init(host: host, port: port, maxUploadBytes: Int(maxUploadMB * 1_048_576),
                            requestTimeout: .seconds(requestTimeout), maxPixels: Int(maxMegapixels * 1_000_000),
                            workers: maxConcurrent, queueCapacity: maxQueue),
            logger: logger)
        let (host, port, names) = (host, port, models.all.map(\.name).joined(separator: ", "))
        let listening = ListeningFlag()
        do {
            try AsyncBridge.wait {
                try await server.run { port in
                    listening.set()
                    Standard.error("vision serve: listening on http://\(host):\(port)/ (models: \(names))")
                }
            }
        } catch let error as IOError where !listening.isSet {
            // bind(2) failures: say which address, in words.
            throw ServeError(description: "cannot listen on \(host):\(port): \(String(cString: strerror(error.errnoCode)))"
                + (error.errnoCode == EADDRINUSE ? " (another server? choose another --port)" : ""))
        }
        Standard.error("vision serve: stopped")
    }
}

struct ServeError: Error, CustomStringConvertible {
    let description: String
}

/// Set once the server listens, so a start-up failure can be told from a later one.
final class ListeningFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Runs async work to completion from a synchronous command (the top-level
/// command is synchronous). The caller's thread only waits; the work runs on
/// Swift's concurrency pool and NIO's event loops.
enum AsyncBridge {
    static func wait(_ body: @escaping @Sendable () async throws -> Void) throws {
        final class Outcome: @unchecked Sendable { var error: Error? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await body() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }
}
