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
