// Prometheus metrics for GET /metrics, kept in the server's own registry (no
// process-wide MetricsSystem bootstrap): requests by endpoint and status, a
// latency histogram, requests in flight, and the detection queue and workers.

import Foundation
import Prometheus

final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let inFlight: Gauge
    private let queueLength: Gauge
    private let busyWorkers: Gauge

    /// The endpoints a label may name; anything else is "other" so labels stay few.
    static let endpoints: Set<String> = ["/", "/healthz", "/metrics", "/api/v1/predict", "/api/v1/models", "/api/v1/openapi.json"]
    static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    init() {
        inFlight = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "vision", metricName: "http_requests_in_flight", unitName: "", helpText: "HTTP requests being handled now."))
        queueLength = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "vision", metricName: "detection_queue_length", unitName: "", helpText: "Predict requests waiting for a detection worker."))
        busyWorkers = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "vision", metricName: "detection_workers_busy", unitName: "", helpText: "Detection workers running a request now."))
        // Created up front so /metrics lists them before the first request.
        _ = requests(endpoint: "/healthz", status: 200)
        _ = latency(endpoint: "/healthz")
    }

    static func endpoint(for path: String) -> String { endpoints.contains(path) ? path : "other" }

    func requestStarted() { inFlight.increment(by: 1) }

    func requestFinished(endpoint: String, status: Int, seconds: Double) {
        inFlight.decrement(by: 1)
        requests(endpoint: endpoint, status: status).increment()
        latency(endpoint: endpoint).record(seconds)
    }

    func workersChanged(queued: Int, running: Int) {
        queueLength.set(to: Double(queued))
        busyWorkers.set(to: Double(running))
    }

    func text() -> String { registry.emitToString() }

    private func requests(endpoint: String, status: Int) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "vision", metricName: "http_requests", unitName: "total",
                                             helpText: "HTTP requests answered, by endpoint and status."),
            labels: [("endpoint", endpoint), ("status", String(status))])
    }

    private func latency(endpoint: String) -> ValueHistogram {
        registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(namespace: "vision", metricName: "http_request_duration", unitName: "seconds",
                                             helpText: "Time from request head to response, by endpoint."),
            labels: [("endpoint", endpoint)], buckets: Self.latencyBuckets)
    }
}
