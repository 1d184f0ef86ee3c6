// The per-request context: Hummingbird's core storage plus the client's address,
// which the access log names.

import Hummingbird
import NIOCore

struct ServeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "-"
    }
}
