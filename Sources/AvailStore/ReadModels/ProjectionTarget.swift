import AvailCore

/// The read models as the projector writes them, whichever database holds them. The fold and
/// what surrounds it (batches, parking, retries) are the same for both (`apply`); a backend
/// only reads what a batch resumes from (`foldInputs`) and writes a folded batch with its
/// checkpoint in one transaction (`commit`).
public protocol ProjectionTarget: ReadModelQueries {
    /// The stored facts of `inviteeURIs` and the native appointments `appointmentIDs` name:
    /// what the fold of a batch resumes from.
    func foldInputs(inviteeURIs: Set<String>, appointmentIDs: Set<String>) async throws
        -> (facts: [String: AppointmentFacts], natives: [String: Appointment])

    /// Writes `batch` and moves the checkpoint to its position, in one transaction, unless the
    /// checkpoint is no longer `checkpoint` (then nothing is written).
    func commit(_ batch: FoldedBatch, after checkpoint: Int64) async throws -> ProjectionBatchResult

    /// Whether `error` is the database failing (full, busy, I/O, cancelled), which a retry may
    /// cure, rather than something one event's content provoked (a constraint it violates, a
    /// value too big to store).
    func isDatabaseFailure(_ error: any Error) -> Bool

    /// The read models the projector writes from now on: the same ones, held where a rebuild
    /// writes apart (SQLite's generations) so that they are brought up to date before readers
    /// move.
    func heldForProjector() -> any ProjectionTarget

    /// Which read models these are (a number that grows with every rebuild written apart).
    var generationNumber: Int64 { get }

    /// If a rebuild wrote newer read models apart, brings them up to `position` from `log`,
    /// moves every reader to them and returns them; nil if there are none (PostgreSQL rebuilds
    /// in place, which the projector sees as a moved checkpoint).
    func adoptRebuilt(catchingUpWith log: any EventStore, through position: Int64) async throws -> (any ProjectionTarget)?

    /// Deletes what older read models left behind once nothing uses them.
    func removeUnusedGenerations()
}

public enum ProjectionBatchResult: Sendable {
    /// Applied; the read models now include `position`. `touched`: the experts whose
    /// appointments changed (what availability caches drop).
    case applied(position: Int64, experts: ExpertCache, parked: Int, touched: Set<String> = [])
    /// The checkpoint was not where the batch starts (a rebuild ran meanwhile): nothing was
    /// written; read the experts again and continue from `checkpoint`.
    case stale(checkpoint: Int64)
}

extension ProjectionTarget {
    /// Applies `batch` (consecutive events right after `checkpoint`) and moves the checkpoint,
    /// in one transaction (one per event once an event failed): a crash leaves either all of a
    /// transaction or none.
    ///
    /// An event that cannot be applied is parked with its reason and the events after it are
    /// applied: the fold's own refusals (`ParkReason`) and, found by applying the batch one
    /// event at a time, whatever else fails for one event (a constraint its data violates,
    /// facts that do not decode). Only a failure of the database itself (full, busy, I/O) is
    /// thrown, for the caller to retry.
    public func apply(_ batch: [PreparedEvent], after checkpoint: Int64, experts cache: ExpertCache) async throws
        -> ProjectionBatchResult
    {
        do {
            return try await applyTogether(batch, after: checkpoint, experts: cache)
        } catch where !isDatabaseFailure(error) {
            return try await applyOneByOne(batch, after: checkpoint, experts: cache)
        }
    }

    /// `batch` in one transaction; throws whatever fails.
    ///
    /// Only the writes are in the write transaction: the facts are read and folded, and every
    /// row is prepared, before it starts. That is safe because only the projector writes these
    /// tables, and a projector that ran meanwhile (a rebuild, an offline replay) moved the
    /// checkpoint, which the transaction checks before writing anything.
    func applyTogether(_ batch: [PreparedEvent], after checkpoint: Int64, experts cache: ExpertCache) async throws
        -> ProjectionBatchResult
    {
        guard let last = batch.last?.event.position else { return .applied(position: checkpoint, experts: cache, parked: 0) }
        let inputs = batch.compactMap { try? $0.input.get() }
        let loaded = try await foldInputs(
            inviteeURIs: Set(inputs.flatMap(\.inviteeURIs)), appointmentIDs: Set(inputs.flatMap(\.appointmentIDs)))
        let folded = FoldedBatch.fold(batch, through: last, loaded: loaded.facts, natives: loaded.natives, experts: cache)
        return try await commit(folded, after: checkpoint)
    }

    /// Applies `batch` one event at a time, after it failed as a whole for a reason that is not
    /// the database's own: the event that fails alone is parked with that reason, and the
    /// events after it are applied. A failure of the database itself is thrown (retried), but
    /// what was applied before it is reported.
    func applyOneByOne(_ batch: [PreparedEvent], after checkpoint: Int64, experts cache: ExpertCache) async throws
        -> ProjectionBatchResult
    {
        var position = checkpoint, experts = cache, parked = 0, touched = Set<String>()
        var progress: ProjectionBatchResult { .applied(position: position, experts: experts, parked: parked, touched: touched) }
        for prepared in batch {
            let result: ProjectionBatchResult
            do {
                do {
                    result = try await applyTogether([prepared], after: position, experts: experts)
                } catch where !isDatabaseFailure(error) {
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

    /// Applies everything the log holds beyond the checkpoint (or up to `target` at least),
    /// batch by batch: what the daemon's projector does continuously, for commands that write
    /// the log without a daemon, and for a rebuilt generation before readers move to it.
    @discardableResult
    public func catchUp(with log: any EventStore, batchSize: Int = 1000, through target: Int64 = .max) async throws -> Int64 {
        var checkpoint = try await self.checkpoint()
        var experts = ExpertCache(try await self.experts())
        while checkpoint < target {
            let events = try await log.events(after: checkpoint, limit: batchSize)
            if events.isEmpty { return checkpoint }
            switch try await apply(events.map(PreparedEvent.init), after: checkpoint, experts: experts) {
            case .applied(let position, let cache, _, _):
                checkpoint = position
                experts = cache
            case .stale(let found):
                checkpoint = found
                experts = ExpertCache(try await self.experts())
            }
        }
        return checkpoint
    }
}
