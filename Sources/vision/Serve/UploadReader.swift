// Reads a request body within the upload limit. A declared Content-Length over
// the limit is refused before a byte is read; a chunked or lying body is cut off
// as soon as it passes the limit, so nothing larger than --max-upload-mb is ever
// held. (A body that stalls is answered by RequestBodyTimeoutHandler.)

import Foundation
import Hummingbird

enum UploadReader {
    static func read(_ request: Request, limit: Int, timeout: Duration) async throws -> Data {
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > limit { throw tooLarge(limit: limit, size: declared) }
        let start = ContinuousClock.now
        var data = Data()
        do {
            for try await chunk in request.body {
                guard data.count + chunk.readableBytes <= limit else { throw tooLarge(limit: limit, size: nil) }
                data.append(contentsOf: chunk.readableBytesView)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw incomplete(received: data.count, declared: declared, since: start, timeout: timeout)
        }
        // The stream ended early: the timeout handler closed the connection, or the client went away.
        if let declared, data.count < declared {
            throw incomplete(received: data.count, declared: declared, since: start, timeout: timeout)
        }
        return data
    }

    /// What the access log and metrics record for a body cut short (the client
    /// already got RequestBodyTimeoutHandler's 408, or is gone).
    private static func incomplete(received: Int, declared: Int?, since start: ContinuousClock.Instant, timeout: Duration) -> APIError {
        if ContinuousClock.now - start >= timeout {
            return APIError(status: .requestTimeout, message: "the request body did not arrive within \(timeout.components.seconds) s (--request-timeout)")
        }
        return APIError.badRequest("the request body ended after \(received)" + (declared.map { " of its \($0)" } ?? "") + " bytes")
    }

    private static func tooLarge(limit: Int, size: Int?) -> APIError {
        let megabytes = Double(limit) / 1_048_576
        let sizeText = size.map { String(format: " (%.1f MB)", Double($0) / 1_048_576) } ?? ""
        return APIError(status: .contentTooLarge,
                        message: "the upload\(sizeText) exceeds the limit of \(String(format: "%g", megabytes)) MB (--max-upload-mb)")
    }
}
