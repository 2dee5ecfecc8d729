import AvailCore
import Foundation
import GRDB

extension ReadModels {
    /// Applies `batch` one event at a time, after it failed as a whole for a reason that is not
    /// the database's own: the event that fails alone is parked with that reason, and the
    /// events after it are applied. A failure of the database itself is thrown (retried), but
    /// what was applied before it is reported.
    func applyOneByOne(_ batch: [PreparedEvent], after checkpoint: Int64, experts cache: ExpertCache) async throws -> BatchResult {
        var position = checkpoint, experts = cache, parked = 0, touched = Set<String>()
        var progress: BatchResult { .applied(position: position, experts: experts, parked: parked, touched: touched) }
        for prepared in batch {
            let result: BatchResult
            do {
                do {
                    result = try await applyTogether([prepared], after: position, experts: experts)
                } catch where !Self.isDatabaseFailure(error) {
                    let reason = "cannot be applied: \(String(describing: error).prefix(1000))"
                    result = try await commit(.parking(ParkedEvent(event: prepared.event, reason: reason), experts), after: position)
                }
            } catch where position != checkpoint {
                return progress
            }
            switch result {
            case .applied(let reached, let cache, let count, let changed):
                position = reached
                experts = cache
                parked += count
                touched.formUnion(changed)
            case .stale(let found):
                return position == checkpoint ? .stale(checkpoint: found) : progress
            }
        }
        return progress
    }

    /// Whether `error` is the database failing (full, busy, locked, I/O, …), which a retry may
    /// cure, rather than something one event's content provoked: a constraint it violates, a
    /// value too big to store, facts that do not encode or decode.
    static func isDatabaseFailure(_ error: any Error) -> Bool {
        if error is CancellationError { return true }
        guard let error = error as? DatabaseError else { return false }
        switch error.resultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_TOOBIG, .SQLITE_MISMATCH, .SQLITE_RANGE: return false
        default: return true
        }
    }
}
