import HummingbirdCore
import Logging
import NIOCore

/// `HTTP1Channel` with `ServerLimits` enforced below it, on the raw connection: the bound on
/// connections, the idle, request and write time-outs, and refusals of what the HTTP parser rejects
/// (oversized headers among them) as problem documents rather than a bare 400.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let limits: ServerLimits
    let connections: ConnectionCount
    let logPosition: @Sendable () -> Int64

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ServerLimits, connections: ConnectionCount,
         logPosition: @escaping @Sendable () -> Int64) {
        var configuration = HTTP1Channel.Configuration(
            idleTimeout: nil,
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes, maxHeaderFieldCount: 200))
        configuration.additionalChannelHandlers = { [] }
        self.inner = HTTP1Channel(responder: responder, configuration: configuration)
        self.limits = limits
        self.connections = connections
        self.logPosition = logPosition
    }

    var responder: HTTPChannelHandler.Responder { inner.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let state = ConnectionGuardState(limits: limits, connections: connections, logPosition: logPosition)
            // First in the pipeline: it sees bytes before the HTTP decoder does.
            try channel.pipeline.syncOperations.addHandler(RawConnectionGuard(state: state), position: .first)
            // After the codec (HTTP parts), before Hummingbird's own handlers.
            let connectionState = try channel.pipeline.syncOperations.handler(type: HTTPConnectionStateHandler.self)
            try channel.pipeline.syncOperations.addHandler(RequestPartsGuard(state: state), position: .before(connectionState))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 under `limits`.
    static func guarded(limits: ServerLimits, logPosition: @escaping @Sendable () -> Int64) -> HTTPServerBuilder {
        let connections = ConnectionCount()
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(responder: responder, limits: limits, connections: connections, logPosition: logPosition)
        }
    }
}
