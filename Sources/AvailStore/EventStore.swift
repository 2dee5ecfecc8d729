import AvailCore

/// The event log as the server and the commands use it: the seam between availd and the
/// database that holds its log. `EventLog` keeps it in SQLite, `PostgresEventLog` (the
/// AvailPostgres module) in PostgreSQL; both keep the same promises:
///
/// - positions run 1, 2, 3… with no gap, and a reader never sees position P + 1 before P
///   (so `events(after:)` from a checkpoint skips nothing);
/// - a dedupe key is stored once; a stream's versions run 1, 2, 3…;
/// - each event's hash chains it to its predecessor (`ChainHash`), so the same events give the
///   same head hash in either database;
/// - nothing is ever updated or deleted, and `append` returns only once its batch is durable.
public protocol EventStore: Sendable {
    /// Appends `events` in one transaction, deduplicating against the log and within the
    /// batch. Either every new event is stored, durably, or, on error, none is.
    func append(_ events: [NewEvent]) async throws -> [AppendOutcome]

    /// Appends events copied from another log with the positions, stream versions and hashes
    /// they have there, in one durable transaction, after checking that each continues this log
    /// (`LogContinuation`). Otherwise throws `LogCopyRefusal` and stores none of them. What
    /// `availd import` writes with, so a copy is the same log, hash for hash.
    func appendCopy(_ events: [LogEvent]) async throws

    /// The last position (0 when empty).
    func lastPosition() async throws -> Int64

    /// The last position and its hash (0 and `ChainHash.genesis` when empty).
    func head() async throws -> (position: Int64, hash: [UInt8])

    /// Up to `limit` events after `position`, in order.
    func events(after position: Int64, limit: Int) async throws -> [LogEvent]

    /// Walks the whole log (`LogVerifier`): positions, stream versions and the hash chain;
    /// `progress` is told the position reached and the last one after each chunk.
    func verify(maximumProblems: Int, progress: (_ done: Int64, _ total: Int64) -> Void) async throws -> LogVerification
}

extension EventStore {
    public func verify(maximumProblems: Int = 20) async throws -> LogVerification {
        try await verify(maximumProblems: maximumProblems, progress: { _, _ in })
    }
}

extension EventLog: EventStore {}
