import Foundation
import AvailCore
import GRDB

extension ReadModels {
    /// Replaces every read model with `projection` (a fold of the log up to its position): a
    /// new generation is written apart, then the log's file points at it. Safe beside a running
    /// daemon, whose projector brings the new generation up to date and moves its readers to it.
    public func replace(with projection: Projection) async throws {
        let built = try await store.build { db in try Self.write(projection, db) }
        try await store.publish(built)
    }

    /// Writes `projection` into an empty generation.
    ///
    /// Rows are inserted in key order, bytewise as SQLite compares, so the tables' B-trees grow
    /// at their right edge instead of splitting pages all over: a rebuild writes several times
    /// faster.
    static func write(_ projection: Projection, _ db: Database) throws {
        let directory = ExpertDirectory(projection.state.experts.values)
        var appointments: [(appointment: Appointment, snapshot: InviteeSnapshot, facts: AppointmentFacts)] = []
        var undescribed: [AppointmentFacts] = []
        appointments.reserveCapacity(projection.state.facts.count)
        for facts in projection.state.facts.values {
            if let snapshot = facts.snapshot, let appointment = Appointment(facts: facts, expertID: directory.expert(for: snapshot)) {
                appointments.append((appointment, snapshot, facts))
            } else {
                undescribed.append(facts)
            }
        }
        appointments.sort { $0.appointment.id.utf8.lexicographicallyPrecedes($1.appointment.id.utf8) }
        undescribed.sort { $0.inviteeURI.utf8.lexicographicallyPrecedes($1.inviteeURI.utf8) }
        for expert in projection.state.experts.values.sorted(by: { $0.id < $1.id }) { try expert.save(db) }
        for facts in undescribed { try facts.save(db) }
        for (appointment, snapshot, facts) in appointments {
            try appointment.save(
                eventTypeURI: snapshot.eventTypeURI, hostKeys: snapshot.hostKeys, facts: Data(facts.canonicalJSON()), db)
        }
        for native in projection.state.natives.values.sorted(by: { $0.id < $1.id }) {
            try native.save(eventTypeURI: nil, hostKeys: [], facts: Data(native.canonicalJSON()), db)
        }
        for parked in projection.parked { try Self.park(parked, db) }
        try Self.setCheckpoint(projection.position, db)
    }

    /// `position P digest D` of the read models as they stand (see `ProjectionDigest`).
    public func digest() async throws -> (position: Int64, digest: String) {
        try await database.read { db in (try Self.checkpoint(db), try Self.digest(db)) }
    }

    /// The read models' digest beside the digest of a fresh fold of the log up to the same
    /// position: the read models from one snapshot, then the log (append-only, so what it holds
    /// up to that position never changes). A running daemon does not disturb it.
    public func compareWithRebuild() async throws -> (position: Int64, stored: String, rebuilt: String) {
        let (position, stored) = try await digest()
        let rebuilt = try await log.log.fold(through: position).digest
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

extension EventLog {
    /// Folds the log in memory, up to `position` (or its last position when this starts).
    ///
    /// It reads in chunks, each its own short read transaction (the log is append-only, so
    /// what it reads never changes), so beside a running daemon it never holds the WAL back
    /// from being checkpointed. The next chunk is read while this one is decoded on every core
    /// (decoding is pure and most of the cost); then the chunk is folded in log order.
    public func fold(through position: Int64 = .max) async throws -> Projection {
        let head = min(position, try await lastPosition())
        var projection = Projection()
        var chunk = try await events(after: 0, through: head)
        while let last = chunk.last?.position {
            async let next = events(after: last, through: head)
            for (event, input) in zip(chunk, ProjectionInput.decodeConcurrently(chunk)) {
                switch input {
                case .success(let input): projection.apply(input, at: event)
                case .failure(let reason): projection.park(event, reason: reason)
                }
            }
            chunk = try await next
        }
        return projection
    }

    private func events(after position: Int64, through head: Int64) async throws -> [LogEvent] {
        guard position < head else { return [] }
        return try await events(after: position, limit: Int(min(Int64(Self.foldChunkSize), head - position)))
    }

    private static let foldChunkSize = 4096
}
