import Foundation
import AvailCore
import GRDB

extension ReadModels {
    /// Replaces every read model with `projection` (a fold of the whole log) in one
    /// transaction. Returns false, writing nothing, when events were appended after the fold
    /// read the log (a daemon is running): the caller folds again.
    public func replace(with projection: Projection) async throws -> Bool {
        // Rows are inserted in key order, so the tables' B-trees grow at their right edge
        // instead of splitting pages all over: a rebuild writes several times faster.
        let directory = ExpertDirectory(projection.state.experts.values)
        let facts = projection.state.facts.values.sorted { $0.inviteeURI < $1.inviteeURI }
        let appointments = facts.compactMap { facts -> (Appointment, InviteeSnapshot, AppointmentFacts)? in
            guard let snapshot = facts.snapshot,
                let appointment = Appointment(facts: facts, expertID: directory.expert(for: snapshot))
            else { return nil }
            return (appointment, snapshot, facts)
        }.sorted { $0.0.id < $1.0.id }
        return try await database.write { db in
            let head = try EventLog.head(db).position
            guard head == projection.position else { return false }
            try db.execute(sql: """
                DELETE FROM expert_profiles;
                DELETE FROM invitee_facts;
                DELETE FROM appointments;
                DELETE FROM appointment_hosts;
                DELETE FROM parked_events;
                """)
            // A large page cache for the secondary indexes, which are written out of order.
            try db.execute(sql: "PRAGMA cache_size = -262144")
            defer { try? db.execute(sql: "PRAGMA cache_size = \(LogDatabase.writerCacheSize)") }
            for expert in projection.state.experts.values { try expert.save(db) }
            for item in facts where item.snapshot == nil { try item.save(db) }
            for (appointment, snapshot, facts) in appointments {
                try appointment.save(
                    eventTypeURI: snapshot.eventTypeURI, hostKeys: snapshot.hostKeys, facts: Data(facts.canonicalJSON()), db)
            }
            for native in projection.state.natives.values.sorted(by: { $0.id < $1.id }) {
                try native.save(eventTypeURI: nil, hostKeys: [], facts: Data(native.canonicalJSON()), db)
            }
            for parked in projection.parked { try Self.park(parked, db) }
            try Self.setCheckpoint(projection.position, db)
            return true
        }
    }

    /// `position P digest D` of the read models as they stand (see `ProjectionDigest`).
    public func digest() async throws -> (position: Int64, digest: String) {
        try await database.read { db in (try Self.checkpoint(db), try Self.digest(db)) }
    }

    /// The read models' digest beside the digest of a fresh fold of the log up to the same
    /// position, both from one snapshot (so a running daemon does not disturb the comparison).
    public func compareWithRebuild() async throws -> (position: Int64, stored: String, rebuilt: String) {
        try await database.read { db in
            let position = try Self.checkpoint(db)
            let rebuilt = try EventLog.fold(through: position, db).digest
            return (position, try Self.digest(db), rebuilt)
        }
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
    /// Folds the whole log in memory, from one snapshot.
    public func fold() async throws -> Projection {
        try await database.read { db in try Self.fold(through: .max, db) }
    }

    /// Reads the log in chunks; each chunk is decoded on every core at once (decoding is pure
    /// and most of the cost), then folded in log order.
    static func fold(through position: Int64, _ db: Database) throws -> Projection {
        var projection = Projection()
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM events WHERE position <= ? ORDER BY position", arguments: [position])
        var chunk: [LogEvent] = []
        chunk.reserveCapacity(foldChunkSize)
        func foldChunk() {
            for (event, input) in zip(chunk, ProjectionInput.decodeConcurrently(chunk)) {
                switch input {
                case .success(let input): projection.apply(input, at: event)
                case .failure(let reason): projection.park(event, reason: reason)
                }
            }
            chunk.removeAll(keepingCapacity: true)
        }
        while let row = try rows.next() {
            chunk.append(try LogEvent(row: row))
            if chunk.count == foldChunkSize { foldChunk() }
        }
        foldChunk()
        return projection
    }

    private static let foldChunkSize = 4096
}
