import NIOCore

/// One connection's guard, shared by its two handlers (`RawConnectionGuard` below the HTTP
/// codec, `RequestPartsGuard` above it); lives on the connection's event loop. It feeds each
/// event to `ConnectionGuardStateMachine` and performs the action it returns: the timers, the
/// refusal written straight to the socket, the close.
final class ConnectionGuardState {
    private(set) var machine: ConnectionGuardStateMachine
    let connections: ConnectionCount
    let logPosition: @Sendable () -> Int64
    private var timer: Scheduled<Void>?
    private var writeTimer: Scheduled<Void>?
    /// What was queued when the socket stopped taking writes: the write timer asks whether any
    /// of it drained.
    private var queuedAtStall: Int?
    /// The raw handler's context: guard responses go straight to the socket from there.
    var rawContext: ChannelHandlerContext?

    init(limits: ServerLimits, connections: ConnectionCount, logPosition: @escaping @Sendable () -> Int64) {
        self.machine = ConnectionGuardStateMachine(limits: limits)
        self.connections = connections
        self.logPosition = logPosition
    }

    var limits: ServerLimits { machine.limits }

    /// Feeds one event to the machine and performs what it decides.
    func handle(_ event: (inout ConnectionGuardStateMachine) -> ConnectionGuardStateMachine.Action) {
        perform(event(&machine))
    }

    private func perform(_ action: ConnectionGuardStateMachine.Action) {
        switch action {
        case .none:
            break
        case .startTimer(let deadline, let duration):
            timer?.cancel()
            timer = schedule(duration) { [self] in
                timer = nil
                handle { $0.timerFired(deadline) }
            }
        case .cancelTimer:
            timer?.cancel()
            timer = nil
        case .startWriteTimer(let duration):
            queuedAtStall = rawContext.flatMap(Self.queuedBytes)
            writeTimer = schedule(duration) { [self] in
                writeTimer = nil
                let stalled = rawContext.map { !$0.channel.isWritable } ?? false
                var drained = false
                if let before = queuedAtStall, let now = rawContext.flatMap(Self.queuedBytes) { drained = now < before }
                handle { $0.writeTimerFired(stillStalled: stalled, drained: drained) }
            }
        case .cancelWriteTimer:
            writeTimer?.cancel()
            writeTimer = nil
        case .refuse(let refusal):
            cancelTimers()
            guard let context = rawContext else { return }
            if refusal.writesProblem {
                let problem = Problem(refusal.status, code: refusal.code, detail: refusal.detail)
                let bytes = problem.rawResponse(logPosition: logPosition(), retryAfter: refusal.retryAfter)
                context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)), promise: nil)
            }
            context.close(promise: nil)
        case .close:
            cancelTimers()
            rawContext?.close(promise: nil)
        case .release(let placeHeld):
            cancelTimers()
            if placeHeld { connections.close() }
        }
    }

    private func cancelTimers() {
        timer?.cancel()
        timer = nil
        writeTimer?.cancel()
        writeTimer = nil
    }

    private func schedule(_ duration: Duration, _ action: @escaping () -> Void) -> Scheduled<Void>? {
        guard let context = rawContext else { return nil }
        return context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .nanoseconds(duration.nanoseconds)) {
            action()
        }
    }

    private static func queuedBytes(_ context: ChannelHandlerContext) -> Int? {
        try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)
    }
}
