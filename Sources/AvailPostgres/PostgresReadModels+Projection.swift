import AvailCore
import AvailStore
import Foundation
import NIOCore
import NIOFoundationCompat
import PostgresNIO

extension PostgresReadModels: ProjectionTarget {
    public func foldInputs(inviteeURIs: Set<String>, appointmentIDs: Set<String>) async throws
        -> (facts: [String: AppointmentFacts], natives: [String: Appointment])
    {
        let facts = try await facts(of: inviteeURIs)
        var natives: [String: Appointment] = [:]
        if !appointmentIDs.isEmpty {
            let decoder = JSONDecoder()
            for row in try await database.query(
                "SELECT facts FROM appointments WHERE calendar_type = 'native' AND id = ANY(\(Array(appointmentIDs)))")
            {
                let appointment = try decoder.decode(Appointment.self, from: try row.decode(ByteBuffer.self))
                natives[appointment.id] = appointment
            }
        }
        return (facts, natives)
    }

    /// Writes `batch` and moves the checkpoint, in one transaction under the lock a rebuild
    /// holds too, so the checkpoint it finds is the last one either wrote. The commit does not
    /// wait for the WAL flush: a crash loses the last batches whole, with their checkpoint,
    /// and the projector folds them again from the log.
    public func commit(_ batch: FoldedBatch, after checkpoint: Int64) async throws -> ProjectionBatchResult {
        let rows = RowBatch(batch)
        let logger = database.logger
        return try await database.transaction(lock: Self.writeLock, durable: false) { connection in
            let current = try await connection.query(
                "SELECT position FROM projection_checkpoint WHERE name = 'read_models'", logger: logger
            ).collect().first?.decode(Int64.self) ?? 0
            guard current == checkpoint else { return .stale(checkpoint: current) }
            try await rows.write(connection, logger: logger)
            try await connection.query(
                "UPDATE projection_checkpoint SET position = \(batch.position) WHERE name = 'read_models'", logger: logger)
            return .applied(
                position: batch.position, experts: batch.experts, parked: batch.parked.count, touched: batch.touchedExperts)
        }
    }

    /// A constraint an event's data violates (class 23), data PostgreSQL refuses (22) or a
    /// value beyond its limits (54) is that event's; anything else (the connection, the server,
    /// cancellation) is the database's, for a retry.
    public func isDatabaseFailure(_ error: any Error) -> Bool {
        if error is CancellationError { return true }
        guard let error = error as? PSQLError else { return false }
        guard let state = error.serverInfo?[.sqlState] else { return true }
        return !["22", "23", "54"].contains(String(state.prefix(2)))
    }

    /// One set of read models, rebuilt in place: the projector writes the same ones readers read.
    public func heldForProjector() -> any ProjectionTarget { self }

    public var generationNumber: Int64 { 1 }

    /// A rebuild replaces these read models in place; the projector finds the checkpoint moved.
    public func adoptRebuilt(catchingUpWith log: any EventStore, through position: Int64) async throws -> (any ProjectionTarget)? {
        nil
    }

    public func removeUnusedGenerations() {}

    /// A folded batch as PostgreSQL rows, made before the transaction starts.
    struct RowBatch {
        var batch: FoldedBatch
        var experts: [Rows.Expert]
        var appointments: [Rows.AppointmentRow]
        /// Host index rows that go, and that come.
        var hostsGone: [(key: String, appointmentID: String)] = []
        var hostsNew: [(key: String, appointmentID: String)] = []

        init(_ batch: FoldedBatch) {
            self.batch = batch
            let encoder = JSONEncoder.canonical()
            experts = batch.changedExperts.map { Rows.Expert(id: $0.id, profile: ByteBuffer(data: try! encoder.encode($0))) }
            appointments = batch.appointments.map { item in
                Rows.row(item.appointment, eventTypeURI: item.eventTypeURI, hostKeys: item.hostKeys, facts: item.facts)
            }
            appointments += batch.natives.map { Rows.row($0, eventTypeURI: nil, hostKeys: [], facts: $0.canonicalJSON()) }
            for item in batch.appointments {
                // By bytes, as the table's key compares them (Swift's `==` holds two spellings of é equal).
                let previous = Set(item.previousHostKeys.map { Array($0.utf8) }), current = Set(item.hostKeys.map { Array($0.utf8) })
                let id = item.appointment.id
                for key in item.previousHostKeys where !current.contains(Array(key.utf8)) { hostsGone.append((key, id)) }
                for key in item.hostKeys where !previous.contains(Array(key.utf8)) { hostsNew.append((key, id)) }
            }
        }

        func write(_ connection: PostgresConnection, logger: Logger) async throws {
            if !experts.isEmpty {
                try await connection.query("""
                    INSERT INTO expert_profiles (id, profile)
                    SELECT * FROM unnest(\(experts.map(\.id))::text[], \(experts.map(\.profile))::bytea[])
                    ON CONFLICT (id) DO UPDATE SET profile = EXCLUDED.profile
                    """, logger: logger)
            }
            if !batch.facts.isEmpty {
                try await connection.query("""
                    INSERT INTO invitee_facts (invitee_uri, facts)
                    SELECT * FROM unnest(\(batch.facts.map(\.uri))::text[], \(batch.facts.map { ByteBuffer(bytes: $0.compact) })::bytea[])
                    ON CONFLICT (invitee_uri) DO UPDATE SET facts = EXCLUDED.facts
                    """, logger: logger)
            }
            if !batch.described.isEmpty {
                try await connection.query(
                    "DELETE FROM invitee_facts WHERE invitee_uri = ANY(\(batch.described))", logger: logger)
            }
            if !appointments.isEmpty {
                try await connection.query(Rows.insert(appointments, replacing: true), logger: logger)
            }
            if !hostsGone.isEmpty {
                try await connection.query("""
                    DELETE FROM appointment_hosts WHERE (host_key, appointment_id) IN
                        (SELECT * FROM unnest(\(hostsGone.map(\.key))::text[], \(hostsGone.map(\.appointmentID))::text[]))
                    """, logger: logger)
            }
            if !hostsNew.isEmpty {
                try await connection.query("""
                    INSERT INTO appointment_hosts (host_key, appointment_id)
                    SELECT * FROM unnest(\(hostsNew.map(\.key))::text[], \(hostsNew.map(\.appointmentID))::text[])
                    """, logger: logger)
            }
            if !batch.matchKeys.isEmpty { try await reassign(connection, logger: logger) }
            if !batch.parked.isEmpty {
                let parked = batch.parked
                try await connection.query("""
                    INSERT INTO parked_events (position, type, reason, recorded_at)
                    SELECT * FROM unnest(\(parked.map(\.position))::bigint[], \(parked.map(\.type))::text[],
                                         \(parked.map(\.reason))::text[], \(parked.map(\.recordedAt.description))::text[])
                    ON CONFLICT (position) DO UPDATE SET type = EXCLUDED.type, reason = EXCLUDED.reason,
                                                         recorded_at = EXCLUDED.recorded_at
                    """, logger: logger)
            }
        }

        /// Recomputes the expert of every appointment an expert change may move: those of the
        /// changed experts and those naming one of their event types or hosts (before or
        /// after). The stored JSON names the expert too, so it is written again with it.
        private func reassign(_ connection: PostgresConnection, logger: Logger) async throws {
            let keys = batch.matchKeys
            let rows = try await connection.query("""
                SELECT id, expert_id, event_type_uri, host_keys, appointment FROM appointments
                WHERE id IN (
                    SELECT id FROM appointments
                    WHERE calendar_type = 'calendly' AND expert_id = ANY(\(batch.changedExperts.map(\.id)))
                    UNION SELECT id FROM appointments WHERE event_type_uri = ANY(\(Array(keys.eventTypeURIs)))
                    UNION SELECT appointment_id FROM appointment_hosts WHERE host_key = ANY(\(Array(keys.hostKeys))))
                AND NOT (id = ANY(\(Array(batch.writtenIDs))))
                """, logger: logger)
            let directory = batch.experts.directory
            let decoder = JSONDecoder()
            var moved: [(id: String, expertID: String, appointment: ByteBuffer)] = []
            for try await (id, stored, eventTypeURI, hosts, json) in rows.decode(
                (String, String?, String?, String, ByteBuffer).self)
            {
                let expert = directory.expert(
                    eventTypeURI: eventTypeURI, hostKeys: hosts.isEmpty ? [] : hosts.split(separator: "\n").map(String.init))
                guard expert != stored else { continue }
                var appointment = try decoder.decode(Appointment.self, from: json)
                appointment.expertID = expert
                moved.append((id, expert ?? "", ByteBuffer(bytes: appointment.canonicalJSON())))
            }
            guard !moved.isEmpty else { return }
            try await connection.query("""
                UPDATE appointments SET expert_id = NULLIF(moved.expert_id, ''), appointment = moved.appointment
                FROM unnest(\(moved.map(\.id))::text[], \(moved.map(\.expertID))::text[], \(moved.map(\.appointment))::bytea[])
                    AS moved(id, expert_id, appointment)
                WHERE appointments.id = moved.id
                """, logger: logger)
        }
    }
}
