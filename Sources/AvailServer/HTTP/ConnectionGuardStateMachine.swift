import HTTPTypes

/// What one connection's guard decides, as a value: each event of the connection (bytes in, a
/// request's head and end, an answer's head and end, a timer, a full socket) returns the
/// `Action` to perform. `ConnectionGuardState` performs them on the event loop; this type has
/// no socket, no timer and no clock, so its tests are plain values.
///
/// A connection is idle between requests (the idle time-out runs), receiving from a request's
/// first byte until its end (the request time-out runs), answering while the application
/// makes its answer (no time-out: a slow answer is ours), and closing once refused or timed out
/// (everything after is dropped). Apart from these, a socket that stops taking writes starts
/// the write time-out.
struct ConnectionGuardStateMachine {
    enum Phase: Equatable {
        case idle
        case receiving
        case answering
        case closing
    }

    /// The deadline the connection's one phase timer stands for.
    enum Deadline: Equatable {
        /// Between requests: past it, the connection closes quietly.
        case idle
        /// From a request's first byte: past it, 408 `request_timeout`.
        case request
        /// A connection past the bound that sends nothing: closed after this.
        case refusalGrace
    }

    /// A refusal: the problem document to write (nil when the application already began its
    /// answer, which cannot be taken back), then close.
    struct Refusal: Equatable {
        var status: HTTPResponse.Status
        var code: ProblemCode
        var detail: String
        var retryAfter: Int?
        var writesProblem: Bool
    }

    enum Action: Equatable {
        case none
        /// Start the phase timer for `deadline`, replacing the one running.
        case startTimer(Deadline, Duration)
        case cancelTimer
        /// Start the write timer (the socket is full).
        case startWriteTimer(Duration)
        case cancelWriteTimer
        /// Cancel every timer, write the refusal's problem if it has one, close.
        case refuse(Refusal)
        /// Cancel every timer and close, writing nothing.
        case close
        /// The connection is gone: cancel every timer, and give its place back if it held one.
        case release(placeHeld: Bool)
    }

    /// What to do with bytes that arrived, besides the action.
    enum Bytes: Equatable {
        case forward
        case drop
    }

    let limits: ServerLimits
    private(set) var phase = Phase.idle
    private var overLimit = false
    private var holdsPlace = false
    private var responseStarted = false
    /// The answer was written before the request was read in full (a 401 or 413 before the
    /// body): the connection idles once the rest of the request is in.
    private var responseFinished = false
    private var writeTimerRunning = false

    init(limits: ServerLimits) {
        self.limits = limits
    }

    // MARK: The connection

    /// The connection opened; `withinBound`: whether it is within `maxConnections`. One past the
    /// bound is answered once its request arrives (so the client reads the answer rather than
    /// a reset), or closed after a second of silence.
    mutating func opened(withinBound: Bool) -> Action {
        holdsPlace = true
        guard withinBound else {
            overLimit = true
            phase = .receiving
            return .startTimer(.refusalGrace, .seconds(1))
        }
        return becomeIdle()
    }

    /// The connection closed, or its handler left the pipeline. Its place is given back once.
    mutating func ended() -> Action {
        let held = holdsPlace
        holdsPlace = false
        writeTimerRunning = false
        return .release(placeHeld: held)
    }

    // MARK: Requests

    /// Bytes arrived, before the HTTP decoder sees them.
    mutating func bytesArrived() -> (Bytes, Action) {
        if overLimit {
            return (.drop, refuse(.serviceUnavailable, code: .overloaded,
                                  detail: "availd has too many open connections; retry later", retryAfter: limits.retryAfterSeconds))
        }
        switch phase {
        case .closing: return (.drop, .none)
        case .idle: return (.forward, requestBegan())
        case .receiving, .answering: return (.forward, .none)
        }
    }

    /// The decoder read a request's head (the first bytes may have been an earlier request's
    /// tail on a kept-alive connection).
    mutating func requestHeadRead() -> Action {
        requestBegan()
    }

    /// The decoder read a request's end.
    mutating func requestEndRead() -> Action {
        guard phase == .receiving else { return .none }
        if responseFinished { return becomeIdle() }
        phase = .answering
        return .cancelTimer
    }

    /// The decoder refused what it read.
    enum ParserFailure: Equatable {
        case headersTooLarge
        case malformed(String)
    }

    mutating func parserFailed(_ failure: ParserFailure) -> Action {
        switch failure {
        case .headersTooLarge:
            refuse(.init(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: .headersTooLarge,
                   detail: "the request line and headers are larger than \(limits.maxHeaderBytes) bytes")
        case .malformed(let reason):
            refuse(.badRequest, code: .malformedRequest, detail: "the request is not well-formed HTTP/1.1 (\(reason))")
        }
    }

    // MARK: Answers

    /// The application began its answer (a final status, not a 1xx).
    mutating func responseHeadWritten() {
        responseStarted = true
    }

    /// The answer's end was written. A request answered before it was read in full (a 413, a
    /// 401) leaves its body unread: Hummingbird drains it, under the request time-out still,
    /// then the connection idles.
    mutating func responseEndWritten() -> Action {
        switch phase {
        case .answering: return becomeIdle()
        case .receiving:
            responseFinished = true
            return .none
        case .idle, .closing: return .none
        }
    }

    // MARK: Time

    /// The phase timer for `deadline` fired. One that was replaced meanwhile finds its phase
    /// gone and does nothing.
    mutating func timerFired(_ deadline: Deadline) -> Action {
        switch (deadline, phase) {
        case (.idle, .idle):
            return close()
        case (.refusalGrace, .receiving) where overLimit:
            return close()
        case (.request, .receiving) where !overLimit:
            return refuse(.requestTimeout, code: .requestTimeout,
                          detail: "the request was not received within \(limits.requestTimeout.components.seconds) s")
        default:
            return .none
        }
    }

    /// The socket stopped taking writes: more is queued than the client has read. An answer is
    /// not bounded by the request time-out (it may be slow to make), but one that cannot be
    /// written is.
    mutating func writeStalled() -> Action {
        guard !writeTimerRunning, phase != .closing else { return .none }
        writeTimerRunning = true
        return .startWriteTimer(limits.writeTimeout)
    }

    /// The socket takes writes again.
    mutating func writeResumed() -> Action {
        guard writeTimerRunning else { return .none }
        writeTimerRunning = false
        return .cancelWriteTimer
    }

    /// The write timer fired: `stillStalled`, whether the socket still takes no writes;
    /// `drained`, whether some of what was queued went meanwhile (the client reads, slowly:
    /// it gets another `writeTimeout`). A client that reads nothing is closed, so it does not
    /// hold its place for ever.
    mutating func writeTimerFired(stillStalled: Bool, drained: Bool) -> Action {
        guard writeTimerRunning else { return .none }
        writeTimerRunning = false
        guard stillStalled, phase != .closing else { return .none }
        if drained { return writeStalled() }
        return close()
    }

    // MARK: Transitions

    private mutating func becomeIdle() -> Action {
        phase = .idle
        responseStarted = false
        responseFinished = false
        return .startTimer(.idle, limits.idleTimeout)
    }

    private mutating func requestBegan() -> Action {
        guard phase == .idle else { return .none }
        phase = .receiving
        return .startTimer(.request, limits.requestTimeout)
    }

    private mutating func refuse(_ status: HTTPResponse.Status, code: ProblemCode, detail: String, retryAfter: Int? = nil) -> Action {
        guard phase != .closing else { return .none }
        phase = .closing
        writeTimerRunning = false
        return .refuse(Refusal(status: status, code: code, detail: detail, retryAfter: retryAfter, writesProblem: !responseStarted))
    }

    private mutating func close() -> Action {
        guard phase != .closing else { return .none }
        phase = .closing
        writeTimerRunning = false
        return .close
    }
}
