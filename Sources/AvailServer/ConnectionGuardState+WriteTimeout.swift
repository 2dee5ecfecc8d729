import NIOCore

extension ConnectionGuardState {
    /// The channel stopped taking writes: more is queued than the client has read. An answer
    /// is not bounded by the request time-out (it may be slow to make), but one that cannot be
    /// written is: if nothing of what is queued drains within `writeTimeout`, the client is not
    /// reading and the connection is closed, so it does not hold its place for ever.
    func writeStalled() {
        guard writeTimer == nil, phase != .closing, let context = rawContext else { return }
        let queued = Self.queuedBytes(context)
        writeTimer = schedule(limits.writeTimeout) { [self] in
            writeTimer = nil
            guard let context = rawContext, !context.channel.isWritable else { return }
            if let queued, let now = Self.queuedBytes(context), now < queued { return writeStalled() }
            close()
        }
    }

    /// The channel takes writes again.
    func writeResumed() {
        writeTimer?.cancel()
        writeTimer = nil
    }

    private static func queuedBytes(_ context: ChannelHandlerContext) -> Int? {
        try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)
    }
}
