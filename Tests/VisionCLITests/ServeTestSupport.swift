// `vision serve` under test: starts the built binary on a free loopback port
// (--port 0; the port is read from its "listening on" line), and a raw HTTP/1.1
// client over a socket, so tests can also send what no well-behaved client would
// (bad multipart, a lying Content-Length, a body that stalls).

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ServeProcess {
    let process: Process
    let port: UInt16
    let stderrFile: URL
    let scratch: URL

    static let models = CLI.repoRoot.appendingPathComponent("Models")
    static let samples = CLI.repoRoot.appendingPathComponent("Samples/bccd/JPEGImages")

    /// Starts `vision serve --port 0 arguments...` with the shipped models and waits
    /// (up to 60 s) for it to listen.
    /// models: the model definitions folder (VISION_MODELS).
    init(_ arguments: [String] = [], name: String, models: URL = ServeProcess.models) throws {
        scratch = try CLI.temporaryDirectory("serve-\(name)")
        let started = try CLI.start(["serve", "--port", "0"] + arguments,
                                    environment: CLI.environment(models: models, home: scratch), scratch: scratch)
        process = started.0
        stderrFile = started.stderr
        let deadline = Date().addingTimeInterval(60)
        var port: UInt16?
        while port == nil, Date() < deadline, process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
            let text = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
                port = UInt16(text[range].split(separator: ":").last!.dropLast())
            }
        }
        guard let port else {
            let log = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
            if process.isRunning { process.terminate() }
            throw NSError(domain: "ServeProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "vision serve did not start: \(log)"])
        }
        self.port = port
    }

    /// The server's resident memory (VmRSS), in MB.
    var residentMegabytes: Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes / 1024
    }

    var log: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    func connect() throws -> HTTPConnection { try HTTPConnection(port: port) }

    /// One request on its own connection; the whole answer.
    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) throws -> HTTPAnswer {
        let connection = try connect()
        defer { connection.close() }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (key, value) in headers { head += "\(key): \(value)\r\n" }
        if headers["Content-Length"] == nil && headers["Transfer-Encoding"] == nil && (method == "POST" || !body.isEmpty) {
            head += "Content-Length: \(body.count)\r\n"
        }
        try connection.send(Data((head + "\r\n").utf8) + body)
        return try connection.readAnswer()
    }

    func get(_ path: String) throws -> HTTPAnswer { try request("GET", path) }

    /// POST /api/v1/predict with the image in the multipart field `image`.
    func predictMultipart(image: Data, filename: String, query: String = "", fields: [String: String] = [:]) throws -> HTTPAnswer {
        let (body, contentType) = Multipart.form(file: ("image", filename, image), fields: fields)
        return try request("POST", "/api/v1/predict" + query, headers: ["Content-Type": contentType], body: body)
    }
}

enum Multipart {
    static let boundary = "vision-test-boundary-7d1c"

    static func form(file: (field: String, name: String, data: Data)?, fields: [String: String]) -> (Data, String) {
        var body = Data()
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(key)\"\r\n\r\n\(value)\r\n".utf8)
        }
        if let file {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
            body += file.data + Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }
}

struct HTTPAnswer {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: body) as? [String: Any], "not a JSON object: \(text)")
    }
    /// The message of an {"error": "..."} answer (and checks that shape).
    func errorMessage() throws -> String {
        XCTAssertEqual(headers["content-type"], "application/json; charset=utf-8")
        let object = try json()
        XCTAssertEqual(Array(object.keys), ["error"])
        return try XCTUnwrap(object["error"] as? String)
    }
}

/// A blocking loopback TCP connection with a receive timeout.
final class HTTPConnection {
    private let fd: Int32

    init(port: UInt16, timeoutSeconds: Int = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { Glibc.close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw POSIXError(.EPIPE) }
                offset += sent
            }
        }
    }

    /// Reads until the server closes the connection or one full answer has arrived.
    func readAnswer() throws -> HTTPAnswer {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let answer = Self.parse(data) { return answer }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(buffer, count: n)
        }
        guard let answer = Self.parse(data, closed: true) else {
            throw NSError(domain: "HTTPConnection", code: 2, userInfo: [NSLocalizedDescriptionKey: "no complete HTTP answer: \(String(decoding: data, as: UTF8.self))"])
        }
        return answer
    }

    /// Reads one response head (through its blank line), e.g. an interim "100 Continue".
    func readHead() throws -> String {
        var data = Data()
        var byte: UInt8 = 0
        while !data.hasSuffix(Data("\r\n\r\n".utf8)) {
            guard recv(fd, &byte, 1, 0) == 1 else { throw POSIXError(.ECONNRESET) }
            data.append(byte)
        }
        return String(decoding: data, as: UTF8.self)
    }

    func close() { Glibc.close(fd) }

    private static func parse(_ data: Data, closed: Bool = false) -> HTTPAnswer? {
        guard let headEnd = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let lines = String(decoding: data[..<headEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, statusLine.count >= 12, let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = data[headEnd.upperBound...]
        if let length = headers["content-length"].flatMap(Int.init) {
            return body.count >= length ? HTTPAnswer(status: status, headers: headers, body: Data(body.prefix(length))) : nil
        }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var decoded = Data(), cursor = body.startIndex
            while let lineEnd = body.range(of: Data("\r\n".utf8), in: cursor..<body.endIndex) {
                guard let size = Int(String(decoding: body[cursor..<lineEnd.lowerBound], as: UTF8.self), radix: 16) else { return nil }
                if size == 0 { return HTTPAnswer(status: status, headers: headers, body: decoded) }
                let start = lineEnd.upperBound
                guard body.endIndex - start >= size + 2 else { return nil }
                decoded += body[start..<start + size]
                cursor = start + size + 2
            }
            return nil
        }
        return closed ? HTTPAnswer(status: status, headers: headers, body: Data(body)) : nil
    }
}

extension Data {
    func hasSuffix(_ suffix: Data) -> Bool { count >= suffix.count && self.suffix(suffix.count) == suffix }
}

/// Runs body(0..<count) on `count` threads at once (concurrentPerform would run
/// only as many as there are cores, too few to fill the server's queue).
func simultaneously(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread {
            body(i)
            group.leave()
        }.start()
    }
    group.wait()
}

/// Results filled in by concurrent clients, one slot each.
final class Slots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Value?]
    init(_ count: Int) { values = Array(repeating: nil, count: count) }
    subscript(i: Int) -> Value? {
        get { lock.withLock { values[i] } }
        set { lock.withLock { values[i] = newValue } }
    }
    var all: [Value?] { lock.withLock { values } }
}
