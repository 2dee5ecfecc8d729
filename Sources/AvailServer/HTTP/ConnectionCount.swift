import Synchronization

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
