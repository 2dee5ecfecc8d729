import AvailCore
import Foundation
import GRDB

extension ReadModels: ProjectionTarget {
    public func foldInputs(inviteeURIs: Set<String>, appointmentIDs: Set<String>) async throws
        -> (facts: [String: AppointmentFacts], natives: [String: Appointment])
    {
        try await database.read { db in
            (try Self.facts(for: inviteeURIs, db), try Self.natives(appointmentIDs, db))
        }
    }

    /// Writes `batch` and moves the checkpoint to its position, unless the checkpoint is no
    /// longer `checkpoint`. The rows are made before the transaction: only binding them holds
    /// the read models' writer.
    public func commit(_ batch: FoldedBatch, after checkpoint: Int64) async throws -> ProjectionBatchResult {
        let rows = RowBatch(batch)
        // The read models' own file, committed with `synchronous=NORMAL` (see `ReadModelGeneration`):
        // nothing here waits for, or delays, the log's writer.
        return try await database.writeWithoutTransaction { db in
            var result: ProjectionBatchResult = .stale(checkpoint: checkpoint)
            try db.inTransaction {
                let current = try Self.checkpoint(db)
                guard current == checkpoint else {
                    result = .stale(checkpoint: current)
                    return .rollback
                }
                try rows.write(db)
                try Self.setCheckpoint(batch.position, db)
                result = .applied(
                    position: batch.position, experts: batch.experts, parked: batch.parked.count, touched: batch.touchedExperts)
                return .commit
            }
            return result
        }
    }

    /// Whether `error` is the database failing (full, busy, locked, I/O, …), which a retry may
    /// cure, rather than something one event's content provoked: a constraint it violates, a
    /// value too big to store, facts that do not encode or decode.
    public func isDatabaseFailure(_ error: any Error) -> Bool {
        if error is CancellationError { return true }
        guard let error = error as? DatabaseError else { return false }
        switch error.resultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_TOOBIG, .SQLITE_MISMATCH, .SQLITE_RANGE: return false
        default: return true
        }
    }

    public func heldForProjector() -> any ProjectionTarget {
        pinned(to: generation)
    }

    public var generationNumber: Int64 { generation.number }

    public func adoptRebuilt(catchingUpWith log: any EventStore, through position: Int64) async throws -> (any ProjectionTarget)? {
        guard let next = try await newerGeneration() else { return nil }
        let rebuilt = pinned(to: next)
        try await rebuilt.catchUp(with: log, through: position)
        moveReaders(to: next)
        return rebuilt
    }

    /// A folded batch as SQLite rows.
    struct RowBatch {
        var batch: FoldedBatch
        /// Calendly's appointments, each with the host keys the index holds for it now.
        var appointments: [(row: AppointmentRow, previousHosts: [String])]
        var natives: [AppointmentRow]

        init(_ batch: FoldedBatch) {
            self.batch = batch
            appointments = batch.appointments.map { item in
                (AppointmentRow(item.appointment, eventTypeURI: item.eventTypeURI, hostKeys: item.hostKeys, facts: item.facts),
                 item.previousHostKeys)
            }
            natives = batch.natives.map(AppointmentRow.init(native:))
        }

        func write(_ db: Database) throws {
            for expert in batch.changedExperts { try expert.save(db) }
            for (uri, compact) in batch.facts { try AppointmentFacts.save(uri: uri, compact: compact, db) }
            for uri in batch.described {
                try db.cachedStatement(sql: "DELETE FROM invitee_facts WHERE invitee_uri = ?").execute(arguments: [uri])
            }
            if !appointments.isEmpty || !natives.isEmpty {
                var statements = try AppointmentRow.Statements(db)
                for (row, previousHosts) in appointments { try row.save(previousHostKeys: previousHosts, &statements, db) }
                for native in natives { try native.save(&statements, db) }
            }
            if !batch.matchKeys.isEmpty {
                try ReadModels.reassign(
                    matching: batch.matchKeys, experts: Set(batch.changedExperts.map(\.id)), skipping: batch.writtenIDs,
                    batch.experts.directory, db)
            }
            for event in batch.parked { try ReadModels.park(event, db) }
        }
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
