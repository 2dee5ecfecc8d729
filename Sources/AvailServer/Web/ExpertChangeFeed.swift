import Synchronization

/// Tells whoever listens that an expert's read models changed: the projector publishes after
/// each batch, the settings page's event stream listens. Nothing is buffered for a listener
/// but the newest news: a slow page just refetches once.
final class ExpertChangeFeed: Sendable {
    enum News: Sendable, Equatable {
        /// The expert changed; the read models include `position`.
        case changed(position: Int64)
        /// Nothing happened: a stream writes a comment, so a closed page is noticed.
        case heartbeat
    }

    private struct Listener {
        var expert: String
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

    /// News of `expert`, a heartbeat every `heartbeat`, until the stream is dropped or the feed
    /// finishes.
    func changes(of expert: String, heartbeat: Duration = .seconds(15)) -> AsyncStream<News> {
        let (stream, continuation) = AsyncStream.makeStream(of: News.self, bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLock { state in
            guard !state.finished else { return nil }
            defer { state.nextID += 1 }
            state.listeners[state.nextID] = Listener(expert: expert, continuation: continuation)
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        let beats = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                continuation.yield(.heartbeat)
            }
        }
        continuation.onTermination = { [weak self] _ in
            beats.cancel()
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
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
