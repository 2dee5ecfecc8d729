import AvailCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization

/// The limits a production HTTP service keeps, per connection and overall.
public struct ServerLimits: Sendable {
    /// Connections open at once; past it a new one gets 503 `overloaded` and is closed.
    public var maxConnections = 1024
    /// Requests being answered at once; past it a request gets 503 `overloaded`.
    public var maxInFlightRequests = 256
    /// The request line and headers together, in bytes; past it 431 `headers_too_large`.
    public var maxHeaderBytes = 16 * 1024
    /// A keep-alive connection with no request in progress is closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// From a request's first byte to its last: a client trickling bytes gets 408
    /// `request_timeout` and loses the connection.
    public var requestTimeout: Duration = .seconds(30)
    /// An answer that makes no progress (the client reads nothing, the socket stays full) for
    /// this long loses the connection.
    public var writeTimeout: Duration = .seconds(30)
    /// Event streams one expert may hold open at once; past it 429 `too_many_streams`.
    public var maxStreamsPerExpert = 8
    /// What `Retry-After` says when availd sheds load.
    public var retryAfterSeconds = 1

    public init() {}
}

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

/// Open connections, across event loops.
final class ConnectionCount: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts one more; whether it is within `limit`.
    func open(limit: Int) -> Bool {
        count.wrappingAdd(1, ordering: .relaxed).newValue <= limit
    }

    func close() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }
}

/// One connection's guard, shared by its two handlers; lives on the connection's event loop.
final class ConnectionGuardState {
    enum Phase {
        /// Between requests: the idle time-out runs.
        case idle
        /// From a request's first byte until its end: the request time-out runs.
        case receiving
        /// The request is read; the application answers. No time-out (a slow answer is ours).
        case answering
        /// Refused or timed out: everything from now on is dropped.
        case closing
    }

    let limits: ServerLimits
    let connections: ConnectionCount
    let logPosition: @Sendable () -> Int64
    var phase = Phase.idle
    var responseStarted = false
    /// The answer was written before the request was read in full (a 401 or 413 before the
    /// body): the connection idles once the rest of the request is in.
    var responseFinished = false
    var counted = false
    var timer: Scheduled<Void>?
    /// Runs while the socket takes no more writes (see `writeStalled()`).
    var writeTimer: Scheduled<Void>?
    /// The raw handler's context: guard responses go straight to the socket from there.
    var rawContext: ChannelHandlerContext?

    init(limits: ServerLimits, connections: ConnectionCount, logPosition: @escaping @Sendable () -> Int64) {
        self.limits = limits
        self.connections = connections
        self.logPosition = logPosition
    }

    func startTimer(_ duration: Duration, _ action: @escaping () -> Void) {
        timer?.cancel()
        timer = schedule(duration, action)
    }

    func schedule(_ duration: Duration, _ action: @escaping () -> Void) -> Scheduled<Void>? {
        guard let context = rawContext else { return nil }
        return context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .nanoseconds(duration.nanoseconds)) {
            action()
        }
    }

    func becomeIdle() {
        phase = .idle
        responseStarted = false
        responseFinished = false
        startTimer(limits.idleTimeout) { [self] in
            if phase == .idle { close() }
        }
    }

    func requestBegan() {
        guard phase == .idle else { return }
        phase = .receiving
        startTimer(limits.requestTimeout) { [self] in
            guard phase == .receiving else { return }
            refuse(.requestTimeout, code: "request_timeout",
                   detail: "the request was not received within \(limits.requestTimeout.components.seconds) s")
        }
    }

    func requestEnded() {
        guard phase == .receiving else { return }
        if responseFinished { return becomeIdle() }
        phase = .answering
        timer?.cancel()
        timer = nil
    }

    func responseEnded() {
        switch phase {
        case .answering: becomeIdle()
        case .receiving: responseFinished = true
        case .idle, .closing: break
        }
    }

    /// Answers `status` with a problem document (unless the application already began its
    /// answer) and closes the connection.
    func refuse(_ status: HTTPResponse.Status, code: String, detail: String, retryAfter: Int? = nil) {
        guard phase != .closing, let context = rawContext else { return }
        let answered = responseStarted
        phase = .closing
        timer?.cancel()
        timer = nil
        if !answered {
            let problem = Problem(status, code: code, detail: detail)
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: problem.rawResponse(logPosition: logPosition(), retryAfter: retryAfter))), promise: nil)
        }
        context.close(promise: nil)
    }

    func close() {
        guard phase != .closing else { return }
        phase = .closing
        timer?.cancel()
        timer = nil
        writeResumed()
        rawContext?.close(promise: nil)
    }

    func connectionEnded() {
        timer?.cancel()
        timer = nil
        writeResumed()
        if counted {
            counted = false
            connections.close()
        }
    }
}

/// Bytes, before the HTTP decoder: counts the connection, refuses it past the bound, starts
/// the request time-out at a request's first byte, and the write time-out when the socket is full.
final class RawConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let state: ConnectionGuardState
    private var overLimit = false

    init(state: ConnectionGuardState) {
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        state.rawContext = context
        state.counted = true
        overLimit = !state.connections.open(limit: state.limits.maxConnections)
        if overLimit {
            // Answer once the request arrives, so the client reads the answer rather than a
            // reset; a client that sends nothing is closed after a second.
            state.phase = .receiving
            state.startTimer(.seconds(1)) { [state] in state.close() }
        } else {
            state.becomeIdle()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        state.connectionEnded()
        state.rawContext = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.connectionEnded()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if overLimit {
            state.refuse(.serviceUnavailable, code: "overloaded",
                         detail: "availd has too many open connections; retry later", retryAfter: state.limits.retryAfterSeconds)
            return
        }
        switch state.phase {
        case .closing: return
        case .idle: state.requestBegan()
        case .receiving, .answering: break
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { state.writeResumed() } else { state.writeStalled() }
        context.fireChannelWritabilityChanged()
    }
}

/// HTTP parts, after the codec: ends the request time-out when a request is read, starts the
/// idle time-out when its answer is written, and turns parser errors into problems.
final class RequestPartsGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let state: ConnectionGuardState

    init(state: ConnectionGuardState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: state.requestBegan()
        case .body: break
        case .end: state.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational:
            state.responseStarted = true
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            // A request answered before it was read in full (a 413, a 401) leaves its body
            // unread: Hummingbird drains it, under the request time-out still, then it idles.
            state.responseEnded()
        default:
            context.write(data, promise: promise)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        switch error {
        case .headerOverflow:
            state.refuse(.init(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: "headers_too_large",
                         detail: "the request line and headers are larger than \(state.limits.maxHeaderBytes) bytes")
        default:
            state.refuse(.badRequest, code: "malformed_request", detail: "the request is not well-formed HTTP/1.1 (\(error))")
        }
    }
}

extension Problem {
    /// The problem as a whole HTTP/1.1 response that closes the connection, for the guards
    /// that answer below Hummingbird.
    func rawResponse(logPosition: Int64, retryAfter: Int?) -> [UInt8] {
        let body = (try? JSONEncoder.canonical().encode(Document(
            type: "tag:availd,2026:problem:\(code)", title: status.reasonPhrase, status: status.code, detail: detail, code: code)))
            ?? Data()
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        head += "Content-Type: application/problem+json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        head += "Log-Position: \(logPosition)\r\n"
        if let retryAfter { head += "Retry-After: \(retryAfter)\r\n" }
        return Array((head + "\r\n").utf8) + Array(body)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
