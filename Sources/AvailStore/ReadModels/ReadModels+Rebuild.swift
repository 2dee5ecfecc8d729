import AvailCore
import GRDB

extension ReadModels {
    /// Replaces every read model with `projection` (a fold of the whole log) in one
    /// transaction. Returns false, writing nothing, when events were appended after the fold
    /// read the log (a daemon is running): the caller folds again.
    public func replace(with projection: Projection) async throws -> Bool {
        try await database.write { db in
            let head = try EventLog.head(db).position
            guard head == projection.position else { return false }
            try db.execute(sql: """
                DELETE FROM expert_profiles;
                DELETE FROM invitee_facts;
                DELETE FROM appointments;
                DELETE FROM appointment_hosts;
                DELETE FROM parked_events;
                """)
            let directory = ExpertDirectory(projection.state.experts.values)
            for expert in projection.state.experts.values { try expert.save(db) }
            for facts in projection.state.facts.values {
                try facts.save(db)
                guard let snapshot = facts.snapshot,
                    let appointment = Appointment(facts: facts, expertID: directory.expert(for: snapshot))
                else { continue }
                try appointment.save(eventTypeURI: snapshot.eventTypeURI, hostEmails: snapshot.hostEmails, db)
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

    static func fold(through position: Int64, _ db: Database) throws -> Projection {
        var projection = Projection()
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM events WHERE position <= ? ORDER BY position", arguments: [position])
        while let row = try rows.next() {
            projection.apply(try LogEvent(row: row))
        }
        return projection
    }
}
