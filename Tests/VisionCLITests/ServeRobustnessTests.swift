// `vision serve` against bad input and load: every bad upload gets a 4xx
// {"error"} and the server keeps answering; a full queue gets 503 + Retry-After;
// SIGTERM lets the request in flight finish before the process exits.

import Foundation
import XCTest

final class ServeRobustnessTests: XCTestCase {
    let badImages = CLI.repoRoot.appendingPathComponent("Tests/Fixtures/images/bad")
    var sample: URL { ServeProcess.samples.appendingPathComponent("BloodImage_00007.jpg") }

    func testBadInputSweepGetsJSONErrorsAndTheServerStaysUp() throws {
        let server = try ServeProcess(["--max-upload-mb", "1", "--request-timeout", "2"], name: "sweep")
        defer { server.stop() }
        let image = try Data(contentsOf: sample)
        var cases: [(name: String, answer: HTTPAnswer, status: Int, message: String)] = []
        func raw(_ name: String, _ data: Data, status: Int, _ message: String, type: String = "image/jpeg") throws {
            do {
                cases.append((name, try server.request("POST", "/api/v1/predict?file=\(name)", headers: ["Content-Type": type], body: data), status, message))
            } catch {
                XCTFail("\(name): \(error)")
            }
        }
        try raw("truncated.jpg", image.prefix(image.count / 3), status: 400, "truncated.jpg: truncated JPEG data")
        try raw("zero.jpg", Data(), status: 400, "zero.jpg: empty file")
        try raw("notes.txt", Data("just some text\n".utf8), status: 400, "notes.txt: not a JPEG or PNG image")
        try raw("bomb.jpg", try Data(contentsOf: badImages.appendingPathComponent("bomb.jpg")), status: 400,
                "bomb.jpg: 30000x30000 pixels exceeds the limit of 50000000 pixels")
        try raw("bomb.png", try Data(contentsOf: badImages.appendingPathComponent("bomb.png")), status: 400, "exceeds the limit of 50000000 pixels")
        try raw("corrupt.png", try Data(contentsOf: badImages.appendingPathComponent("bad_crc.png")), status: 400, "corrupt.png: ")
        try raw("big.jpg", image + Data(count: 1_100_000), status: 413, "exceeds the limit of 1 MB (--max-upload-mb)")
        try raw("page.html", image, status: 415, "unsupported Content-Type 'text/html'", type: "text/html")
        // A chunked body with no Content-Length is cut off at the limit too.
        let chunk = Data(count: 256 * 1024)
        var chunked = Data()
        for _ in 0..<6 { chunked += Data("40000\r\n".utf8) + chunk + Data("\r\n".utf8) }
        chunked += Data("0\r\n\r\n".utf8)
        cases.append(("chunked", try server.request("POST", "/api/v1/predict", headers: ["Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"],
                                                     body: chunked), 413, "exceeds the limit of 1 MB"))
        // Multipart: no closing boundary, no boundary parameter, no image field.
        let (form, formType) = Multipart.form(file: ("image", "a.jpg", image), fields: [:])
        cases.append(("unclosed multipart", try server.request("POST", "/api/v1/predict", headers: ["Content-Type": formType],
                                                                body: form.prefix(form.count - 40)), 400, "malformed multipart body"))
        cases.append(("no boundary", try server.request("POST", "/api/v1/predict", headers: ["Content-Type": "multipart/form-data"],
                                                         body: form), 400, "missing or invalid boundary"))
        let (noImage, noImageType) = Multipart.form(file: ("photo", "a.jpg", image), fields: [:])
        cases.append(("no image field", try server.request("POST", "/api/v1/predict", headers: ["Content-Type": noImageType],
                                                            body: noImage), 400, "no field 'image'"))
        // A form field value holding a line feed (found by Tests/Fuzz): quoted escaped, on one line.
        let (lineBreak, lineBreakType) = Multipart.form(file: ("image", "a.jpg", image), fields: ["max_detections": "5\nfive"])
        cases.append(("line break in a field", try server.request("POST", "/api/v1/predict", headers: ["Content-Type": lineBreakType],
                                                                   body: lineBreak), 400, "got '5\\nfive'"))
        // A slow client: announces 1000 bytes, sends 10, then stalls past --request-timeout.
        let slow = try server.connect()
        defer { slow.close() }
        let started = Date()
        try slow.send(Data("POST /api/v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n".utf8) + image.prefix(10))
        cases.append(("slow client", try slow.readAnswer(), 408, "did not arrive within 2 s (--request-timeout)"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)

        for c in cases {
            XCTAssertEqual(c.answer.status, c.status, "\(c.name): \(c.answer.text)")
            let message = try c.answer.errorMessage()
            XCTAssertTrue(message.contains(c.message), "\(c.name): \(message)")
            XCTAssertFalse(message.contains("\n"), "\(c.name): a message spans lines: \(message)")
        }
        // Memory stays flat: twenty more rounds of the rejected uploads grow the server by little.
        let before = try XCTUnwrap(server.residentMegabytes)
        for _ in 0..<20 {
            for data in [image.prefix(image.count / 3), Data("text".utf8), try Data(contentsOf: badImages.appendingPathComponent("bomb.jpg")),
                         image + Data(count: 1_100_000)] {
                XCTAssertEqual(try server.request("POST", "/api/v1/predict", headers: ["Content-Type": "image/jpeg"], body: data).status / 100, 4)
            }
            XCTAssertEqual(try server.request("POST", "/api/v1/predict", headers: ["Content-Type": noImageType], body: noImage).status, 400)
        }
        let after = try XCTUnwrap(server.residentMegabytes)
        print(String(format: "vision serve RSS over 100 rejected uploads: %.1f MB -> %.1f MB", before, after))
        XCTAssertLessThan(after - before, 20, "RSS \(before) MB -> \(after) MB over 100 rejected uploads")

        // Still alive and still right.
        XCTAssertTrue(server.process.isRunning)
        XCTAssertEqual(try server.get("/healthz").status, 200)
        let good = try server.predictMultipart(image: image, filename: "good.jpg")
        XCTAssertEqual(good.status, 200, good.text)
        XCTAssertGreaterThan((try good.json()["objects"] as? [Any])?.count ?? 0, 5)
    }

    func testAFullQueueGets503WithRetryAfter() throws {
        let server = try ServeProcess(["--max-concurrent", "1", "--max-queue", "1", "--threads", "1"], name: "busy")
        defer { server.stop() }
        let image = try Data(contentsOf: sample)
        let count = 12
        let answers = Slots<HTTPAnswer>(count)
        simultaneously(count) { i in answers[i] = try? server.predictMultipart(image: image, filename: "b\(i).jpg") }
        let statuses = answers.all.map { $0?.status ?? -1 }
        let retryAfter = answers.all.map { $0?.headers["retry-after"] }
        // One running, one queued: of twelve at once, some are refused, and only with 503.
        XCTAssertEqual(Set(statuses).subtracting([200, 503]), [], "\(statuses)")
        XCTAssertGreaterThanOrEqual(statuses.filter { $0 == 200 }.count, 2, "\(statuses)")
        XCTAssertGreaterThanOrEqual(statuses.filter { $0 == 503 }.count, 1, "\(statuses)")
        for i in 0..<count where statuses[i] == 503 { XCTAssertEqual(retryAfter[i], "1") }
        XCTAssertEqual(try server.predictMultipart(image: image, filename: "after.jpg").status, 200)
    }

    func testSigtermFinishesTheRequestInFlightThenExits() throws {
        let server = try ServeProcess(name: "sigterm")
        defer { server.stop() }
        let image = try Data(contentsOf: sample)
        // The request is in flight (head and half the body sent) when SIGTERM arrives.
        let connection = try server.connect()
        defer { connection.close() }
        try connection.send(Data("POST /api/v1/predict?file=inflight.jpg HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: \(image.count)\r\n\r\n".utf8)
                            + image.prefix(image.count / 2))
        Thread.sleep(forTimeInterval: 0.3)
        kill(server.process.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 0.3)
        // New connections are refused once the listener is closed.
        XCTAssertThrowsError(try server.get("/healthz"))
        try connection.send(image.suffix(from: image.count / 2))
        let answer = try connection.readAnswer()
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(try answer.json()["file"] as? String, "inflight.jpg")
        XCTAssertGreaterThan((try answer.json()["objects"] as? [Any])?.count ?? 0, 5)
        let deadline = Date().addingTimeInterval(15)
        while server.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(server.process.isRunning, "still running after SIGTERM")
        XCTAssertEqual(server.process.terminationStatus, 0, server.log)
        XCTAssertTrue(server.log.contains("vision serve: stopped"), server.log)
    }

    func testABusyPortIsAOneLineError() throws {
        let server = try ServeProcess(name: "port")
        defer { server.stop() }
        let result = try CLI.run(["serve", "--port", String(server.port)],
                                 environment: CLI.environment(models: ServeProcess.models, home: server.scratch), scratch: server.scratch)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("Error: cannot listen on 127.0.0.1:\(server.port): Address already in use (another server? choose another --port)"),
                      result.stderr)
    }

    func testExpect100ContinueGetsTheGoAheadOrAnEarly413() throws {
        let server = try ServeProcess(["--max-upload-mb", "1"], name: "continue")
        defer { server.stop() }
        let image = try Data(contentsOf: sample)
        // Fits: "100 Continue" comes before a byte of the body is sent, then the answer.
        let fits = try server.connect()
        defer { fits.close() }
        try fits.send(Data("POST /api/v1/predict?file=c.jpg HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: \(image.count)\r\nExpect: 100-continue\r\n\r\n".utf8))
        XCTAssertTrue(try fits.readHead().hasPrefix("HTTP/1.1 100 Continue\r\n"))
        try fits.send(image)
        let answer = try fits.readAnswer()
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(try answer.json()["file"] as? String, "c.jpg")
        // Too large: the 413 comes instead, and the body need never be sent.
        let tooLarge = try server.connect()
        defer { tooLarge.close() }
        try tooLarge.send(Data("POST /api/v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n".utf8))
        let refused = try tooLarge.readAnswer()
        XCTAssertEqual(refused.status, 413)
        XCTAssertTrue(try refused.errorMessage().contains("(4.8 MB) exceeds the limit of 1 MB"))
    }
}
