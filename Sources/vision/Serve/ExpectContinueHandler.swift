// HTTP/1.1 "Expect: 100-continue" (curl sends it for uploads over 1 MB and then
// waits a second for the go-ahead): answers "100 Continue" at once when the
// declared body fits --max-upload-mb, and says nothing when it does not, so the
// request handler's 413 arrives before the client sends the body at all.

import Hummingbird  // HTTPResponse
import NIOCore
import NIOHTTPTypes

final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let maxUploadBytes: Int

    init(maxUploadBytes: Int) { self.maxUploadBytes = maxUploadBytes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case let .head(request) = unwrapInboundIn(data),
           request.headerFields[.expect]?.lowercased() == "100-continue",
           (request.headerFields[.contentLength].flatMap(Int.init) ?? 0) <= maxUploadBytes {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}
