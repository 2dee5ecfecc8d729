import Synchronization

/// How far the read models are: what `Log-Position` says, and what `min_position` waits for.
public final class ProjectionProgress: Sendable {
    private struct Waiter {
        var target: Int64
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var position: Int64 = 0
        var waiters: [Int: Waiter] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var position: Int64 { state.withLock { $0.position } }

    /// Records that the read models include `position`, waking whoever waited for it.
    public func publish(_ position: Int64) {
        let ready: [Waiter] = state.withLock { state in
            state.position = position
            let ready = state.waiters.filter { $0.value.target <= position }
            for id in ready.keys { state.waiters[id] = nil }
            return Array(ready.values)
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    /// Waits until the read models include `target`; false after `timeout` (or cancellation).
    public func wait(for target: Int64, timeout: Duration) async -> Bool {
        if position >= target { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitWithoutTimeout(for: target) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let reached = await group.next() ?? false
            group.cancelAll()
            return reached
        }
    }

    private func waitWithoutTimeout(for target: Int64) async -> Bool {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let answer: Bool? = state.withLock { state in
                    if state.position >= target { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = Waiter(target: target, continuation: continuation)
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let waiter = state.withLock { state in state.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: false)
        }
    }
}
