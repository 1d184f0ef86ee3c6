// `vision serve` end to end over loopback with the shipped default model: every
// endpoint answers, and POST /api/v1/predict answers byte for byte the line
// `vision predict` writes for the same image and options, also under concurrency.

import Foundation
import XCTest

final class ServeAPITests: XCTestCase {
    // One server for the class: loading it once keeps the suite fast.
    nonisolated(unsafe) static var server: ServeProcess?
    nonisolated(unsafe) static var predictLines: [String: String] = [:]

    override class func setUp() {
        super.setUp()
        server = try? ServeProcess(["--max-concurrent", "2", "--threads", "1"], name: "api")
    }

    override class func tearDown() {
        server?.stop()
        server = nil
        super.tearDown()
    }

    private func server() throws -> ServeProcess { try XCTUnwrap(Self.server, "vision serve did not start") }

    private var sampleImages: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: ServeProcess.samples, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "jpg" }.sorted { $0.path < $1.path }
    }

    /// `vision predict` lines for the sample images (options as given), by file.
    private func predictLines(_ options: [String] = []) throws -> [String: String] {
        let scratch = try CLI.temporaryDirectory("serve-predict")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let result = try CLI.run(["predict", "--quiet"] + options + sampleImages.map(\.path),
                                 environment: CLI.environment(models: ServeProcess.models, home: scratch), scratch: scratch)
        XCTAssertEqual(result.status, 0, result.stderr)
        var lines: [String: String] = [:]
        for (line, record) in zip(result.stdoutLines, try CLI.records(result.stdout)) { lines[record.file] = line }
        return lines
    }

    func testPredictAnswersEqualVisionPredictLinesConcurrently() throws {
        let server = try server()
        let expected = try predictLines()
        let images = sampleImages
        XCTAssertEqual(images.count, 8)
        XCTAssertEqual(expected.count, images.count)
        // All eight at once (two workers, the rest queued): multipart for even, raw body for odd.
        let answers = Slots<HTTPAnswer>(images.count)
        simultaneously(images.count) { i in
            let data = try! Data(contentsOf: images[i])
            let answer = i % 2 == 0
                ? try? server.predictMultipart(image: data, filename: images[i].path)
                : try? server.request("POST", "/api/v1/predict?file=" + images[i].path,
                                      headers: ["Content-Type": "image/jpeg"], body: data)
            answers[i] = answer
        }
        for (i, image) in images.enumerated() {
            let answer = try XCTUnwrap(answers[i], "no answer for \(image.lastPathComponent)")
            XCTAssertEqual(answer.status, 200, answer.text)
            XCTAssertEqual(answer.headers["content-type"], "application/json; charset=utf-8")
            XCTAssertEqual(answer.text, try XCTUnwrap(expected[image.path]) + "\n", image.lastPathComponent)
        }
        // The answers hold real detections (not an empty list that would trivially match).
        let objects = try XCTUnwrap(try answers[0]?.json()["objects"] as? [[String: Any]])
        XCTAssertGreaterThan(objects.count, 5)
    }

    func testPredictOptionsMatchPredictsOptions() throws {
        let server = try server()
        let image = sampleImages[0]
        let data = try Data(contentsOf: image)
        let expected = try XCTUnwrap(try predictLines(["--min-prob", "0.3", "--max-detections", "4", "-k", "rbc", "-k", "WBC"])[image.path])
        // As query parameters (only_class repeated and comma-separated) ...
        let viaQuery = try server.predictMultipart(image: data, filename: image.path,
                                                  query: "?min_prob=0.3&max_detections=4&only_class=rbc,WBC")
        XCTAssertEqual(viaQuery.status, 200, viaQuery.text)
        XCTAssertEqual(viaQuery.text, expected + "\n")
        // ... and as form fields, which win over the query.
        let viaForm = try server.predictMultipart(image: data, filename: image.path, query: "?min_prob=0.99",
                                                 fields: ["min_prob": "0.3", "max_detections": "4", "only_class": "rbc,WBC", "model": "bccd"])
        XCTAssertEqual(viaForm.status, 200, viaForm.text)
        XCTAssertEqual(viaForm.text, expected + "\n")
        let objects = try XCTUnwrap(try viaForm.json()["objects"] as? [[String: Any]])
        XCTAssertEqual(objects.count, 4)
        XCTAssertEqual(Set(objects.compactMap { $0["label"] as? String }).subtracting(["RBC", "WBC"]), [])
    }

    func testModelsHealthzOpenAPIAndPage() throws {
        let server = try server()
        let models = try server.get("/api/v1/models")
        XCTAssertEqual(models.status, 200)
        let list = try XCTUnwrap(try models.json()["models"] as? [[String: Any]])
        XCTAssertEqual(list.count, 1)
        XCTAssertEqual(list[0]["name"] as? String, "bccd")
        XCTAssertEqual(list[0]["default"] as? Bool, true)
        XCTAssertEqual(list[0]["architecture"] as? String, "fasterrcnn_mobilenet_v2_fpn")
        let classes = try XCTUnwrap(list[0]["classes"] as? [[String: Any]])
        XCTAssertEqual(classes.compactMap { $0["name"] as? String }, ["Platelets", "RBC", "WBC"])
        XCTAssertEqual(classes.compactMap { $0["id"] as? Int }, [1, 2, 3])
        for c in classes { XCTAssertNotNil((c["color"] as? String)?.range(of: "^#[0-9a-f]{6}$", options: .regularExpression)) }

        let health = try server.get("/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(try health.json()["status"] as? String, "ok")

        let openapi = try server.get("/api/v1/openapi.json")
        XCTAssertEqual(openapi.status, 200)
        let committed = try Data(contentsOf: CLI.repoRoot.appendingPathComponent("docs/openapi.json"))
        XCTAssertEqual(openapi.body, committed, "the served OpenAPI document differs from docs/openapi.json")
        let document = try openapi.json()
        XCTAssertEqual((document["openapi"] as? String)?.hasPrefix("3."), true)
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        XCTAssertEqual(Set(paths.keys), ["/", "/healthz", "/metrics", "/api/v1/predict", "/api/v1/models", "/api/v1/openapi.json"])
        let predictResponses = try XCTUnwrap(((paths["/api/v1/predict"] as? [String: Any])?["post"] as? [String: Any])?["responses"] as? [String: Any])
        XCTAssertEqual(Set(predictResponses.keys), ["200", "400", "404", "408", "413", "415", "503"])

        let page = try server.get("/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.headers["content-type"], "text/html; charset=utf-8")
        for part in ["id=\"file\"", "id=\"threshold\"", "id=\"model\"", "/api/v1/predict", "/api/v1/models", "Download JSON"] {
            XCTAssertTrue(page.text.contains(part), "the page lacks \(part)")
        }
        // Nothing is fetched from elsewhere: no absolute URLs, no external scripts or styles.
        XCTAssertNil(page.text.range(of: #"(src|href)\s*=\s*["']?(https?:)?//"#, options: .regularExpression))
        XCTAssertFalse(page.text.contains("http://") || page.text.contains("https://"))
    }

    func testErrorsAreJSONWithTheirStatus() throws {
        let server = try server()
        let image = try Data(contentsOf: sampleImages[0])
        let unknownModel = try server.predictMultipart(image: image, filename: "a.jpg", query: "?model=nope")
        XCTAssertEqual(unknownModel.status, 404)
        XCTAssertEqual(try unknownModel.errorMessage(), "unknown model 'nope'; loaded: bccd")
        let unknownRoute = try server.get("/api/v1/nothing")
        XCTAssertEqual(unknownRoute.status, 404)
        XCTAssertTrue(try unknownRoute.errorMessage().contains("/api/v1/nothing"))
        let badProb = try server.predictMultipart(image: image, filename: "a.jpg", query: "?min_prob=2")
        XCTAssertEqual(badProb.status, 400)
        XCTAssertTrue(try badProb.errorMessage().contains("min_prob"))
        let badCount = try server.predictMultipart(image: image, filename: "a.jpg", fields: ["max_detections": "0"])
        XCTAssertEqual(badCount.status, 400)
        XCTAssertTrue(try badCount.errorMessage().contains("max_detections"))
        let badClass = try server.predictMultipart(image: image, filename: "a.jpg", query: "?only_class=cat")
        XCTAssertEqual(badClass.status, 400)
        XCTAssertTrue(try badClass.errorMessage().contains("unknown class 'cat' for only_class; valid names (or ids 1-3): Platelets, RBC, WBC"))
        let badOption = try server.predictMultipart(image: image, filename: "a.jpg", query: "?minprob=0.2")
        XCTAssertEqual(badOption.status, 400)
        XCTAssertTrue(try badOption.errorMessage().contains("unknown option 'minprob'"))
        let getPredict = try server.get("/api/v1/predict")
        XCTAssertEqual(getPredict.status, 405)
        XCTAssertEqual(getPredict.headers["allow"], "POST")
        XCTAssertTrue(try getPredict.errorMessage().hasPrefix("use POST /api/v1/predict"))
    }

    func testMetricsCountRequestsAndAccessLogNamesThem() throws {
        let server = try server()
        let image = try Data(contentsOf: sampleImages[1])
        XCTAssertEqual(try server.predictMultipart(image: image, filename: "m.jpg").status, 200)
        XCTAssertEqual(try server.predictMultipart(image: Data("text".utf8), filename: "m.txt").status, 400)
        let metrics = try server.get("/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        let text = metrics.text
        func value(_ series: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        XCTAssertGreaterThanOrEqual(value(#"vision_http_requests_total{endpoint="/api/v1/predict",status="200"}"#) ?? 0, 1, text)
        XCTAssertGreaterThanOrEqual(value(#"vision_http_requests_total{endpoint="/api/v1/predict",status="400"}"#) ?? 0, 1, text)
        XCTAssertGreaterThanOrEqual(value(#"vision_http_request_duration_seconds_count{endpoint="/api/v1/predict"}"#) ?? 0, 2, text)
        XCTAssertNotNil(value(#"vision_http_request_duration_seconds_bucket{endpoint="/api/v1/predict",le="+Inf"}"#), text)
        XCTAssertTrue(text.contains("# TYPE vision_http_request_duration_seconds histogram"), text)
        // The /metrics request itself is in flight while the text is made.
        XCTAssertEqual(value("vision_http_requests_in_flight"), 1, text)
        XCTAssertEqual(value("vision_detection_queue_length"), 0, text)
        XCTAssertNotNil(value("vision_detection_workers_busy"), text)
        // Access log on stderr: client, method, path, status, duration.
        let deadline = Date().addingTimeInterval(5)
        while !server.log.contains("POST /api/v1/predict 400"), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertNotNil(server.log.range(of: #"127\.0\.0\.1 POST /api/v1/predict 200 [0-9.]+ ms"#, options: .regularExpression), server.log)
        XCTAssertTrue(server.log.contains("POST /api/v1/predict 400"), server.log)
    }
}
