import Synchronization

/// Tells whoever listens that an expert's read models changed: the projector publishes after
/// each batch, the settings page's event stream listens (at most so many per expert). Nothing
/// is buffered for a listener but the newest news (a slow page just refetches once), and a
/// heartbeat never replaces an unread change.
final class ExpertChangeFeed: Sendable {
    enum News: Sendable, Equatable {
        /// The expert changed; the read models include `position`.
        case changed(position: Int64)
        /// Nothing happened: a stream writes a comment, so a closed page is noticed.
        case heartbeat
    }

    private struct Listener {
        var expert: String
        /// The id of the expert token the stream was opened with (nil for the admin's).
        var token: String?
        var continuation: AsyncStream<News>.Continuation
    }

    private struct State {
        var listeners: [Int: Listener] = [:]
        var nextID = 0
        var finished = false
    }

    private let state = Mutex(State())

    /// `experts` changed; the read models now include `position`.
    func publish(_ experts: Set<String>, position: Int64) {
        let targets = state.withLock { state in
            state.listeners.values.filter { experts.contains($0.expert) }.map(\.continuation)
        }
        for continuation in targets { continuation.yield(.changed(position: position)) }
    }

    /// News of `expert`, a heartbeat every `heartbeat`, until the stream is dropped, the token
    /// it was opened with is revoked, or the feed finishes; nil when the expert has `limit`
    /// streams open already.
    func changes(of expert: String, token: String?, limit: Int, heartbeat: Duration = .seconds(15)) -> AsyncStream<News>? {
        let (stream, continuation) = AsyncStream.makeStream(of: News.self, bufferingPolicy: .bufferingNewest(1))
        enum Opened { case listening(Int), finished, refused }
        let opened: Opened = state.withLock { state in
            guard !state.finished else { return .finished }
            guard state.listeners.values.count(where: { $0.expert == expert }) < limit else { return .refused }
            defer { state.nextID += 1 }
            state.listeners[state.nextID] = Listener(expert: expert, token: token, continuation: continuation)
            return .listening(state.nextID)
        }
        let id: Int
        switch opened {
        case .listening(let listening): id = listening
        case .refused: return nil
        case .finished:
            continuation.finish()
            return stream
        }
        let beats = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                // Only the newest news is kept: a heartbeat must not push out a change the
                // page has not read yet, so that change goes back in instead.
                if case .dropped(let unread) = continuation.yield(.heartbeat), unread != .heartbeat {
                    continuation.yield(unread)
                }
            }
        }
        continuation.onTermination = { [weak self] _ in
            beats.cancel()
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends the streams opened with the expert token `token` (it was just revoked).
    func revoked(token: String) {
        let ended = state.withLock { state in
            let ids = state.listeners.filter { $0.value.token == token }.map(\.key)
            return ids.compactMap { state.listeners.removeValue(forKey: $0)?.continuation }
        }
        for continuation in ended { continuation.finish() }
    }

    /// Ends every stream (the daemon is stopping: open pages must not hold it up).
    func finish() {
        let all = state.withLock { state in
            state.finished = true
            defer { state.listeners = [:] }
            return state.listeners.values.map(\.continuation)
        }
        for continuation in all { continuation.finish() }
    }
}
