import AvailCore
import Foundation
import GRDB

/// The experts as the projector last wrote them, with the directory built from them. The
/// projector keeps this in memory between batches; it is rebuilt when experts change.
public struct ExpertCache: Sendable {
    public private(set) var experts: [String: ExpertProfile]
    public private(set) var directory: ExpertDirectory

    public init(_ experts: [String: ExpertProfile] = [:]) {
        self.experts = experts
        self.directory = ExpertDirectory(experts.values)
    }
}

/// One log event ready for the fold, or the reason it cannot be applied.
public struct PreparedEvent: Sendable {
    public var event: LogEvent
    public var input: Result<ProjectionInput, ParkReason>

    /// Decoding is pure and the costly part, so it happens before the write transaction.
    public init(_ event: LogEvent) {
        self.event = event
        self.input = Result { () throws(ParkReason) in try ProjectionInput(event) }
    }
}

extension ReadModels {
    public enum BatchResult: Sendable {
        /// Applied; the read models now include `position`. `touched`: the experts whose
        /// appointments changed (what availability caches drop).
        case applied(position: Int64, experts: ExpertCache, parked: Int, touched: Set<String> = [])
        /// The checkpoint was not where the batch starts (a rebuild ran meanwhile): nothing was
        /// written; read the experts again and continue from `checkpoint`.
        case stale(checkpoint: Int64)
    }

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
        -> BatchResult
    {
        do {
            return try await applyTogether(batch, after: checkpoint, experts: cache)
        } catch where !Self.isDatabaseFailure(error) {
            return try await applyOneByOne(batch, after: checkpoint, experts: cache)
        }
    }

    /// `batch` in one transaction; throws whatever fails.
    ///
    /// Only the writes hold the database's single writer (which webhooks wait for): the facts
    /// are read from a snapshot and folded, and every row is prepared, before the write
    /// transaction starts. That is safe because only the projector writes these tables, and a
    /// projector that ran meanwhile (a rebuild, an offline replay) moved the checkpoint, which
    /// the transaction checks before writing anything.
    func applyTogether(_ batch: [PreparedEvent], after checkpoint: Int64, experts cache: ExpertCache) async throws
        -> BatchResult
    {
        guard let last = batch.last?.event.position else { return .applied(position: checkpoint, experts: cache, parked: 0) }
        let inputs = batch.compactMap { try? $0.input.get() }
        let uris = Set(inputs.flatMap(\.inviteeURIs))
        let ids = Set(inputs.flatMap(\.appointmentIDs))
        let (loaded, natives) = try await database.read { db in
            (try Self.facts(for: uris, db), try Self.natives(ids, db))
        }
        return try await commit(Self.fold(batch, through: last, loaded: loaded, natives: natives, experts: cache), after: checkpoint)
    }

    /// Writes `prepared` and moves the checkpoint to its position, unless the checkpoint is no
    /// longer `checkpoint`.
    func commit(_ prepared: PreparedBatch, after checkpoint: Int64) async throws -> BatchResult {
        // The read models' own file, committed with `synchronous=NORMAL` (see `ReadModelGeneration`):
        // nothing here waits for, or delays, the log's writer.
        try await database.writeWithoutTransaction { db in
            var result: BatchResult = .stale(checkpoint: checkpoint)
            try db.inTransaction {
                let current = try Self.checkpoint(db)
                guard current == checkpoint else {
                    result = .stale(checkpoint: current)
                    return .rollback
                }
                try prepared.write(db)
                try Self.setCheckpoint(prepared.position, db)
                result = .applied(
                    position: prepared.position, experts: prepared.experts, parked: prepared.parked.count,
                    touched: prepared.touchedExperts)
                return .commit
            }
            return result
        }
    }

    /// A folded batch, ready to write.
    struct PreparedBatch: Sendable {
        /// The last event's position: the checkpoint once written.
        var position: Int64
        var experts: ExpertCache
        var changedExperts: [ExpertProfile]
        /// Facts of invitees not described yet (no appointment to keep them in).
        var facts: [(uri: String, compact: [UInt8])]
        /// Invitees described for the first time, whose facts move into their appointment.
        var described: [String]
        /// Calendly's appointments, each with the host keys the index holds for it now.
        var appointments: [(row: AppointmentRow, previousHosts: [String])]
        var natives: [AppointmentRow]
        var matchKeys: MatchKeys
        var parked: [ParkedEvent]

        /// Nothing but `event`, parked.
        static func parking(_ event: ParkedEvent, _ experts: ExpertCache) -> PreparedBatch {
            PreparedBatch(
                position: event.position, experts: experts, changedExperts: [], facts: [], described: [], appointments: [],
                natives: [], matchKeys: MatchKeys(), parked: [event])
        }

        /// Experts whose appointments this batch writes, or who changed (and may gain or lose
        /// appointments by re-matching).
        var touchedExperts: Set<String> {
            var experts = Set(changedExperts.map(\.id))
            for item in appointments { if let id = item.row.expertID { experts.insert(id) } }
            for native in natives { if let id = native.expertID { experts.insert(id) } }
            return experts
        }

        func write(_ db: Database) throws {
            for expert in changedExperts { try expert.save(db) }
            for (uri, compact) in facts { try AppointmentFacts.save(uri: uri, compact: compact, db) }
            for uri in described {
                try db.cachedStatement(sql: "DELETE FROM invitee_facts WHERE invitee_uri = ?").execute(arguments: [uri])
            }
            if !appointments.isEmpty || !natives.isEmpty {
                var statements = try AppointmentRow.Statements(db)
                for (row, previousHosts) in appointments { try row.save(previousHostKeys: previousHosts, &statements, db) }
                for native in natives { try native.save(&statements, db) }
            }
            if !matchKeys.isEmpty {
                try ReadModels.reassign(
                    matching: matchKeys, experts: Set(changedExperts.map(\.id)), skipping: Set(appointments.map(\.row.id)),
                    experts.directory, db)
            }
            for event in parked { try ReadModels.park(event, db) }
        }
    }

    private static func fold(
        _ batch: [PreparedEvent], through last: Int64, loaded: [String: AppointmentFacts], natives: [String: Appointment],
        experts cache: ExpertCache
    ) -> PreparedBatch {
        var state = ProjectionState(experts: cache.experts, facts: loaded, natives: natives)
        var changes = ProjectionChanges()
        var parked: [ParkedEvent] = []
        for prepared in batch {
            do throws(ParkReason) {
                try state.apply(try prepared.input.get(), changes: &changes)
            } catch {
                parked.append(ParkedEvent(event: prepared.event, reason: error.description))
            }
        }
        let cache = changes.experts.isEmpty ? cache : ExpertCache(state.experts)
        var facts: [(uri: String, compact: [UInt8])] = []
        var described: [String] = []
        var appointments: [(row: AppointmentRow, previousHosts: [String])] = []
        for uri in changes.invitees.sorted() {
            let item = state.facts[uri]!
            let compact = item.compact()
            guard let snapshot = item.snapshot,
                let appointment = Appointment(facts: item, expertID: cache.directory.expert(for: snapshot))
            else {
                facts.append((uri, compact))
                continue
            }
            let previous = loaded[uri]
            if previous != nil, previous?.snapshot == nil { described.append(uri) }
            // What the host index holds for it now: the hosts of its stored snapshot.
            let row = AppointmentRow(
                appointment, eventTypeURI: snapshot.eventTypeURI, hostKeys: snapshot.hostKeys, facts: compact)
            appointments.append((row, previous?.snapshot?.hostKeys ?? []))
        }
        return PreparedBatch(
            position: last, experts: cache, changedExperts: changes.experts.sorted().map { state.experts[$0]! }, facts: facts,
            described: described, appointments: appointments, natives: changes.natives.sorted().map { AppointmentRow(native: state.natives[$0]!) },
            matchKeys: changes.matchKeys, parked: parked)
    }

    /// Rows of `sql` (whose `%` stands for a list of placeholders) for `keys`, in chunks that
    /// stay under SQLite's limit on bound parameters.
    static func rows(_ sql: String, _ keys: some Collection<String>, _ db: Database) throws -> [Row] {
        try Array(keys).chunked(500).flatMap { chunk in
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            return try Row.fetchAll(db, sql: sql.replacingOccurrences(of: "%", with: marks), arguments: StatementArguments(chunk))
        }
    }

    /// The native appointments with these ids.
    static func natives(_ ids: Set<String>, _ db: Database) throws -> [String: Appointment] {
        var natives: [String: Appointment] = [:]
        let decoder = JSONDecoder()
        for row in try rows("SELECT facts FROM appointments WHERE calendar_type = 'native' AND id IN (%)", ids, db) {
            let appointment = try decoder.decode(Appointment.self, from: row["facts"] as Data)
            natives[appointment.id] = appointment
        }
        return natives
    }

    /// The stored facts of `uris`: from their appointments, or for invitees not described yet,
    /// from `invitee_facts`.
    static func facts(for uris: Set<String>, _ db: Database) throws -> [String: AppointmentFacts] {
        var facts: [String: AppointmentFacts] = [:]
        func load(_ sql: String, _ keys: [String]) throws {
            for row in try rows(sql, keys, db) {
                let stored: Data = row["facts"]
                let item = try stored.withUnsafeBytes { try AppointmentFacts(compact: $0) }
                facts[item.inviteeURI] = item
            }
        }
        try load(
            "SELECT facts FROM appointments WHERE calendar_type = 'calendly' AND id IN (%)", uris.map(Appointment.id(inviteeURI:)))
        try load("SELECT facts FROM invitee_facts WHERE invitee_uri IN (%)", uris.filter { facts[$0] == nil })
        return facts
    }

    /// Recomputes the expert of every appointment an expert change may move: those of the
    /// changed experts and those naming one of their event types or emails (before or after).
    fileprivate static func reassign(
        matching keys: MatchKeys, experts: Set<String>, skipping written: Set<String>, _ directory: ExpertDirectory,
        _ db: Database
    ) throws {
        var candidates = Set<String>()
        func collect(_ sql: String, _ values: some Collection<String>) throws {
            candidates.formUnion(try rows(sql, values, db).map { $0[0] as String })
        }
        // Native appointments belong to the expert they were booked with, whatever changes.
        try collect("SELECT id FROM appointments WHERE calendar_type = 'calendly' AND expert_id IN (%)", experts)
        try collect("SELECT id FROM appointments WHERE event_type_uri IN (%)", keys.eventTypeURIs)
        try collect("SELECT appointment_id FROM appointment_hosts WHERE host_key IN (%)", keys.hostKeys)
        candidates.subtract(written)
        for row in try rows("SELECT id, expert_id, event_type_uri, host_keys FROM appointments WHERE id IN (%)", candidates, db) {
            let hosts: String = row["host_keys"]
            let expert = directory.expert(
                eventTypeURI: row["event_type_uri"],
                hostKeys: hosts.isEmpty ? [] : hosts.split(separator: "\n").map(String.init))
            if expert != row["expert_id"] {
                try db.cachedStatement(sql: "UPDATE appointments SET expert_id = ? WHERE id = ?")
                    .execute(arguments: [expert, row["id"] as String])
            }
        }
    }

    static func park(_ parked: ParkedEvent, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO parked_events (position, type, reason, recorded_at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [parked.position, parked.type, parked.reason, parked.recordedAt.description])
    }
}

extension ReadModels {
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
