import AvailCore
import Foundation
import GRDB

extension ReadModels {
    /// Replaces every read model with `projection` (a fold of the log up to its position): a
    /// new generation is written apart, then the log's file points at it. Safe beside a running
    /// daemon, whose projector brings the new generation up to date and moves its readers to it.
    /// Returns the digest of what it wrote (see `ProjectionDigest`).
    @discardableResult
    public func replace(with projection: Projection) async throws -> String {
        let (built, digest) = try await store.build { db in try Self.write(projection, db) }
        try await store.publish(built)
        return digest
    }

    /// Writes `projection` into an empty generation; returns the digest of what it wrote.
    ///
    /// Rows are inserted in key order, bytewise as SQLite compares, so the tables' B-trees grow
    /// at their right edge instead of splitting pages all over. The appointments' rows (and their
    /// digest lines, in the same order) are made on every core, a chunk ahead of this connection,
    /// which only binds and inserts them.
    static func write(_ projection: Projection, _ db: Database) throws -> String {
        let state = projection.state
        var digest = ProjectionDigest()
        for expert in state.experts.values.sorted(by: { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }) {
            try expert.save(db)
            digest.add(expert)
        }
        let directory = ExpertDirectory(state.experts.values)
        let facts = Array(state.facts.values)
        let ids = facts.concurrentMap { Appointment.id(inviteeURI: $0.inviteeURI) }
        let order = facts.indices.sorted { ids[$0].utf8.lexicographicallyPrecedes(ids[$1].utf8) }
        var natives = state.natives.values.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }[...]
        var statements = try AppointmentRow.Statements(db)
        func writeNatives(before id: String?) throws {
            while let native = natives.first, id.map({ native.id.utf8.lexicographicallyPrecedes($0.utf8) }) ?? true {
                let row = AppointmentRow(native: native)
                try row.save(&statements, db)
                digest.add(appointmentJSON: row.facts)
                natives.removeFirst()
            }
        }
        var undescribed: [AppointmentFacts] = []
        try pipelined(order.chunked(rebuildChunk).map(Array.init)) { chunk in
            chunk.concurrentMap { index in Self.rebuildRow(facts[index], id: ids[index], directory) }
        } write: { chunk, rows in
            for (index, prepared) in zip(chunk, rows) {
                guard let (row, line) = prepared else {
                    undescribed.append(facts[index])
                    continue
                }
                try writeNatives(before: row.id)
                try row.save(&statements, db)
                digest.add(appointmentJSON: line)
            }
        }
        try writeNatives(before: nil)
        undescribed.sort { $0.inviteeURI.utf8.lexicographicallyPrecedes($1.inviteeURI.utf8) }
        for facts in undescribed { try facts.save(db) }
        for parked in projection.parked { try Self.park(parked, db) }
        try Self.setCheckpoint(projection.position, db)
        return digest.finalize()
    }

    /// How many appointments a rebuild prepares at a time, ahead of the writer.
    private static let rebuildChunk = 4096

    /// An invitee's appointment row and its digest line; nil for an invitee not described yet.
    private static func rebuildRow(_ facts: AppointmentFacts, id: String, _ directory: ExpertDirectory)
        -> (row: AppointmentRow, line: [UInt8])?
    {
        guard let snapshot = facts.snapshot,
            let appointment = Appointment(facts: facts, expertID: directory.expert(for: snapshot), id: id)
        else { return nil }
        let row = AppointmentRow(
            appointment, eventTypeURI: snapshot.eventTypeURI, hostKeys: snapshot.hostKeys, facts: facts.compact())
        return (row, appointment.canonicalJSON())
    }

    /// `position P digest D` of the read models as they stand (see `ProjectionDigest`).
    public func digest() async throws -> (position: Int64, digest: String) {
        try await database.read { db in (try Self.checkpoint(db), try Self.digest(db)) }
    }

    /// The read models' digest beside the digest of a fresh fold of the log up to the same
    /// position: the read models from one snapshot, then the log (append-only, so what it holds
    /// up to that position never changes). A running daemon does not disturb it.
    public func compareWithRebuild(progress: (_ done: Int64, _ total: Int64) -> Void = { _, _ in }) async throws
        -> (position: Int64, stored: String, rebuilt: String)
    {
        let (position, stored) = try await digest()
        let rebuilt = try await log.log.fold(through: position, progress: progress).digest
        return (position, stored, rebuilt)
    }

    static func digest(_ db: Database) throws -> String {
        var digest = ProjectionDigest()
        let experts = try Row.fetchCursor(db, sql: "SELECT * FROM expert_profiles ORDER BY id")
        while let row = try experts.next() { digest.add(try ExpertProfile(row: row)) }
        let appointments = try Row.fetchCursor(db, sql: "SELECT * FROM appointments ORDER BY id")
        while let row = try appointments.next() { digest.add(try Appointment(row: row)) }
        return digest.finalize()
    }
}

extension EventStore {
    /// Folds the log in memory, up to `position` (or its last position when this starts).
    ///
    /// It reads in chunks, each its own short read (the log is append-only, so what it reads
    /// never changes), so beside a running daemon it never holds SQLite's WAL back from being
    /// checkpointed. The next chunk is read while this one is decoded on every core
    /// (decoding is pure and most of the cost); then the chunk is folded in log order.
    /// `progress` is told the position folded and the last one after each chunk.
    public func fold(through position: Int64 = .max, progress: (_ done: Int64, _ total: Int64) -> Void = { _, _ in }) async throws
        -> Projection
    {
        let head = min(position, try await lastPosition())
        var projection = Projection()
        var chunk = try await foldChunk(after: 0, through: head)
        while let last = chunk.last?.position {
            async let next = foldChunk(after: last, through: head)
            for (event, input) in zip(chunk, ProjectionInput.decodeConcurrently(chunk)) {
                switch input {
                case .success(let input): projection.apply(input, at: event)
                case .failure(let reason): projection.park(event, reason: reason)
                }
            }
            progress(last, head)
            chunk = try await next
        }
        return projection
    }

    private func foldChunk(after position: Int64, through head: Int64) async throws -> [LogEvent] {
        guard position < head else { return [] }
        return try await events(after: position, limit: Int(min(Int64(foldChunkSize), head - position)))
    }

}

/// How many events a fold reads at a time.
private let foldChunkSize = 4096
