import AvailCore
import Logging
import ServiceLifecycle
import Synchronization

/// Why an append was not stored. Either way nothing was acknowledged.
public enum LogWriterError: Error, Sendable {
    /// The database refused the batch (disk full, I/O error, …).
    case storageFailed(String)
    /// The writer is shutting down (or not running) and takes no more appends.
    case notAccepting
}

/// Group commit: the single writer of the log.
///
/// Requests hand their event to `append` and wait. The writer takes everything that queued
/// up while the previous batch was committing and commits it as one transaction, so one fsync
/// serves many requests; each waiter resumes only when its own batch is durable. A single writer
/// also means commit order is position order.
public final class LogWriter: Service, Sendable {
    public typealias CommitObserver = @Sendable (_ lastPosition: Int64, _ batchSize: Int) -> Void

    private struct Pending {
        var event: NewEvent
        var continuation: CheckedContinuation<AppendOutcome, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var runLoop: CheckedContinuation<Void, Never>?
        var accepting = true
        var lastFailure: String?
    }

    private let log: any EventStore
    private let maximumBatchSize: Int
    private let logger: Logger
    private let onCommit: CommitObserver
    private let state = Mutex(State())

    public init(log: any EventStore, maximumBatchSize: Int = 1024, logger: Logger, onCommit: @escaping CommitObserver = { _, _ in }) {
        self.log = log
        self.maximumBatchSize = maximumBatchSize
        self.logger = logger
        self.onCommit = onCommit
    }

    /// Appends `event`, returning once it is durable (or known to be a duplicate).
    public func append(_ event: NewEvent) async throws -> AppendOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let wake: CheckedContinuation<Void, Never>?? = state.withLock { state in
                guard state.accepting else { return .none }
                state.pending.append(Pending(event: event, continuation: continuation))
                defer { state.runLoop = nil }
                return .some(state.runLoop)
            }
            switch wake {
            case .none: continuation.resume(throwing: LogWriterError.notAccepting)
            case .some(let runLoop): runLoop?.resume()
            }
        }
    }

    /// Appends every event at once (they share group commits), returning once all are durable;
    /// the outcomes are in the events' order.
    public func appendAll(_ events: [NewEvent]) async throws -> [AppendOutcome] {
        try await withThrowingTaskGroup(of: (Int, AppendOutcome).self) { group in
            for (index, event) in events.enumerated() {
                group.addTask { (index, try await self.append(event)) }
            }
            var outcomes = [AppendOutcome?](repeating: nil, count: events.count)
            for try await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.map { $0! }
        }
    }

    /// `nil` while the last batch committed; the error text after a failed one.
    public var lastFailure: String? { state.withLock { $0.lastFailure } }

    /// True while appends are taken.
    public var isAccepting: Bool { state.withLock { $0.accepting } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while let batch = await nextBatch() {
                await commit(batch)
            }
        } onGracefulShutdown: {
            self.stopAccepting()
        }
        // Cancelled rather than shut down: whatever is still queued was never stored.
        stopAccepting()
        for pending in state.withLock({ state in defer { state.pending = [] }; return state.pending }) {
            pending.continuation.resume(throwing: LogWriterError.notAccepting)
        }
    }

    private func stopAccepting() {
        let runLoop = state.withLock { state in
            state.accepting = false
            defer { state.runLoop = nil }
            return state.runLoop
        }
        runLoop?.resume()
    }

    /// The next batch; `nil` once shutting down with nothing left to commit.
    private func nextBatch() async -> [Pending]? {
        while true {
            enum Next { case batch([Pending]), finished, wait }
            let next: Next = state.withLock { state in
                if !state.pending.isEmpty {
                    let count = min(state.pending.count, maximumBatchSize)
                    defer { state.pending.removeFirst(count) }
                    return .batch(Array(state.pending.prefix(count)))
                }
                return state.accepting && !Task.isCancelled ? .wait : .finished
            }
            switch next {
            case .batch(let batch): return batch
            case .finished: return nil
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = state.withLock { state in
                            guard state.pending.isEmpty, state.accepting, !Task.isCancelled else { return true }
                            state.runLoop = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.stopAccepting()
                }
            }
        }
    }

    private func commit(_ batch: [Pending]) async {
        do {
            let outcomes = try await log.append(batch.map(\.event))
            state.withLock { $0.lastFailure = nil }
            if let last = outcomes.last(where: { !$0.isDuplicate }) {
                onCommit(last.position, batch.count)
            }
            logger.trace("log.batch committed", metadata: ["log.batch.size": "\(batch.count)"])
            for (pending, outcome) in zip(batch, outcomes) {
                pending.continuation.resume(returning: outcome)
            }
        } catch {
            let failure = String(describing: error)
            state.withLock { $0.lastFailure = failure }
            logger.error("log.batch failed", metadata: ["log.batch.size": "\(batch.count)", "error": "\(failure)"])
            for pending in batch {
                pending.continuation.resume(throwing: LogWriterError.storageFailed(failure))
            }
        }
    }
}
