// A channel handler (between HTTP decoding and Hummingbird's request handling)
// that answers 408 {"error"} and closes the connection when a request's body has
// not fully arrived within --request-timeout of its head. It works below the
// request handler because a handler blocked reading a stalled body cannot answer;
// a response the server starts itself (e.g. an early 413) ends the deadline.

import Hummingbird  // HTTPResponse, HTTPFields
import NIOCore
import NIOHTTPTypes
import VisionCore

final class RequestBodyTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = loopBound.value
                handler.expire(context: context)
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The final answer ends the deadline; an interim "100 Continue" does not.
        if case let .head(response) = unwrapOutboundIn(data), response.status.kind != .informational {
            deadline?.cancel()
            deadline = nil
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func expire(context: ChannelHandlerContext) {
        deadline = nil
        let seconds = timeout.nanoseconds / 1_000_000_000
        let body = ByteBuffer(string: "{\"error\": " + jsonStringLiteral("the request body did not arrive within \(seconds) s (--request-timeout)") + "}\n")
        let head = HTTPResponse(status: .requestTimeout, headerFields: [
            .contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes), .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
