import AvailCore
import AvailStore
import Foundation
import NIOCore
import NIOFoundationCompat
import Logging
import PostgresNIO

/// The read models in PostgreSQL: `expert_profiles`, `appointments` and what they are made
/// from, with their checkpoint. The projector writes them batch by batch
/// (`PostgresReadModels+Projection.swift`), a rebuild replaces them in place, and every daemon
/// on the database reads them (`PostgresReadModels+Queries.swift`).
///
/// Experts and appointments are stored as the canonical JSON the digest hashes, beside the
/// columns the queries look up by.
public struct PostgresReadModels: Sendable {
    let database: AvailPostgresDatabase

    public init(database: AvailPostgresDatabase) {
        self.database = database
    }

    /// Held while the read models are rewritten (`pg_advisory_xact_lock`'s key: "availd" and 2).
    static let writeLock: Int64 = 0x6176_6169_6C64_0002

    /// The last log position the read models include.
    public func checkpoint() async throws -> Int64 {
        try await database.query("SELECT position FROM projection_checkpoint WHERE name = 'read_models'")
            .first?.decode(Int64.self) ?? 0
    }

    /// Replaces every read model with `projection` in one durable transaction: readers see the
    /// old ones until it commits, then the new ones. Returns the digest of what it wrote.
    @discardableResult
    public func replace(with projection: Projection) async throws -> String {
        let rows = Rows(projection)
        let logger = database.logger
        try await database.durableTransaction(lock: Self.writeLock) { connection in
            for table in ["expert_profiles", "invitee_facts", "appointments", "appointment_hosts", "parked_events"] {
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: logger)
            }
            for chunk in rows.experts.chunked(1000) {
                try await connection.query("""
                    INSERT INTO expert_profiles (id, profile)
                    SELECT * FROM unnest(\(chunk.map(\.id))::text[], \(chunk.map(\.profile))::bytea[])
                    """, logger: logger)
            }
            for chunk in rows.appointments.chunked(1000) {
                try await connection.query(Rows.insert(chunk), logger: logger)
            }
            for chunk in rows.hosts.chunked(1000) {
                try await connection.query("""
                    INSERT INTO appointment_hosts (host_key, appointment_id)
                    SELECT * FROM unnest(\(chunk.map(\.key))::text[], \(chunk.map(\.appointmentID))::text[])
                    """, logger: logger)
            }
            for chunk in rows.undescribed.chunked(1000) {
                try await connection.query("""
                    INSERT INTO invitee_facts (invitee_uri, facts)
                    SELECT * FROM unnest(\(chunk.map(\.uri))::text[], \(chunk.map(\.facts))::bytea[])
                    """, logger: logger)
            }
            for chunk in projection.parked.chunked(1000) {
                try await connection.query("""
                    INSERT INTO parked_events (position, type, reason, recorded_at)
                    SELECT * FROM unnest(\(chunk.map(\.position))::bigint[], \(chunk.map(\.type))::text[],
                                         \(chunk.map(\.reason))::text[], \(chunk.map(\.recordedAt.description))::text[])
                    """, logger: logger)
            }
            try await connection.query(
                "UPDATE projection_checkpoint SET position = \(projection.position) WHERE name = 'read_models'", logger: logger)
        }
        return rows.digest
    }

    /// `position P digest D` of the read models as they stand, from one snapshot.
    public func digest() async throws -> (position: Int64, digest: String) {
        let logger = database.logger
        return try await database.client.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let position = try await connection.query(
                "SELECT position FROM projection_checkpoint WHERE name = 'read_models'", logger: logger
            ).collect().first?.decode(Int64.self) ?? 0
            var digest = ProjectionDigest()
            let decoder = JSONDecoder()
            for try await profile in try await connection.query(
                "SELECT profile FROM expert_profiles ORDER BY id", logger: logger
            ).decode(Data.self) {
                digest.add(try decoder.decode(ExpertProfile.self, from: profile))
            }
            for try await json in try await connection.query(
                "SELECT appointment FROM appointments ORDER BY id", logger: logger
            ).decode(Data.self) {
                digest.add(appointmentJSON: Array(json))
            }
            return (position, digest.finalize())
        }
    }

    /// The read models' digest beside a fresh fold of `log` up to the same position.
    public func compareWithRebuild(log: any EventStore, progress: (_ done: Int64, _ total: Int64) -> Void = { _, _ in }) async throws
        -> (position: Int64, stored: String, rebuilt: String)
    {
        let (position, stored) = try await digest()
        return (position, stored, try await log.fold(through: position, progress: progress).digest)
    }

    /// A projection's rows, in key order (bytewise, as the tables compare), and their digest.
    /// An absent text is written as "" and stored as NULL (`NULLIF`): none of these columns
    /// holds an empty string otherwise (ids, URIs and times are never empty).
    struct Rows {
        struct Expert {
            var id: String
            var profile: ByteBuffer
        }

        struct AppointmentRow {
            var id: String
            var expertID: String?
            var calendarType: String
            var calendarEventID: String?
            var status: String
            var startTime: String?
            var endTime: String?
            var eventTypeURI: String?
            var rescheduledFrom: String?
            var hostKeys: String
            var json: ByteBuffer
            var facts: ByteBuffer
        }

        var experts: [Expert] = []
        var appointments: [AppointmentRow] = []
        var hosts: [(key: String, appointmentID: String)] = []
        var undescribed: [(uri: String, facts: ByteBuffer)] = []
        var digest: String

        init(_ projection: Projection) {
            let state = projection.state
            var digest = ProjectionDigest()
            let encoder = JSONEncoder.canonical()
            for expert in state.experts.values.sorted(by: { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }) {
                experts.append(Expert(id: expert.id, profile: ByteBuffer(data: try! encoder.encode(expert))))
                digest.add(expert)
            }
            let directory = ExpertDirectory(state.experts.values)
            for facts in state.facts.values {
                guard let snapshot = facts.snapshot,
                    let appointment = Appointment(facts: facts, expertID: directory.expert(for: snapshot))
                else {
                    undescribed.append((facts.inviteeURI, ByteBuffer(bytes: facts.compact())))
                    continue
                }
                appointments.append(Self.row(
                    appointment, eventTypeURI: snapshot.eventTypeURI, hostKeys: snapshot.hostKeys, facts: facts.compact()))
                for key in snapshot.hostKeys { hosts.append((key, appointment.id)) }
            }
            for native in state.natives.values {
                appointments.append(Self.row(native, eventTypeURI: nil, hostKeys: [], facts: native.canonicalJSON()))
            }
            appointments.sort { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
            for row in appointments { digest.add(appointmentJSON: Array(buffer: row.json)) }
            self.digest = digest.finalize()
        }

        /// Inserts `rows` into `appointments`; with `replacing`, a row already there is replaced.
        static func insert(_ rows: some Collection<AppointmentRow>, replacing: Bool = false) -> PostgresQuery {
            """
            INSERT INTO appointments (id, expert_id, calendar_type, external_calendar_event_id, status, start_time, end_time,
                                      event_type_uri, rescheduled_from, host_keys, appointment, facts)
            SELECT id, NULLIF(expert_id, ''), calendar_type, NULLIF(calendar_event_id, ''), status, NULLIF(start_time, ''),
                   NULLIF(end_time, ''), NULLIF(event_type_uri, ''), NULLIF(rescheduled_from, ''), host_keys, appointment, facts
            FROM unnest(\(rows.map(\.id))::text[], \(rows.map { $0.expertID ?? "" })::text[],
                        \(rows.map(\.calendarType))::text[], \(rows.map { $0.calendarEventID ?? "" })::text[],
                        \(rows.map(\.status))::text[], \(rows.map { $0.startTime ?? "" })::text[],
                        \(rows.map { $0.endTime ?? "" })::text[], \(rows.map { $0.eventTypeURI ?? "" })::text[],
                        \(rows.map { $0.rescheduledFrom ?? "" })::text[], \(rows.map(\.hostKeys))::text[],
                        \(rows.map(\.json))::bytea[], \(rows.map(\.facts))::bytea[])
                AS batch(id, expert_id, calendar_type, calendar_event_id, status, start_time, end_time, event_type_uri,
                         rescheduled_from, host_keys, appointment, facts)
            \(unescaped: replacing ? replaceAppointment : "")
            """
        }

        private static let replaceAppointment = """
            ON CONFLICT (id) DO UPDATE SET
                expert_id = EXCLUDED.expert_id, calendar_type = EXCLUDED.calendar_type,
                external_calendar_event_id = EXCLUDED.external_calendar_event_id, status = EXCLUDED.status,
                start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, event_type_uri = EXCLUDED.event_type_uri,
                rescheduled_from = EXCLUDED.rescheduled_from, host_keys = EXCLUDED.host_keys,
                appointment = EXCLUDED.appointment, facts = EXCLUDED.facts
            """

        static func row(_ appointment: Appointment, eventTypeURI: String?, hostKeys: [String], facts: [UInt8]) -> AppointmentRow {
            AppointmentRow(
                id: appointment.id, expertID: appointment.expertID, calendarType: appointment.calendarType,
                calendarEventID: appointment.externalCalendarEventID, status: appointment.status.rawValue,
                startTime: appointment.startTime?.description, endTime: appointment.endTime?.description,
                eventTypeURI: eventTypeURI, rescheduledFrom: appointment.rescheduledFrom, hostKeys: hostKeys.joined(separator: "\n"),
                json: ByteBuffer(bytes: appointment.canonicalJSON()),
                facts: ByteBuffer(bytes: facts))
        }
    }
}
