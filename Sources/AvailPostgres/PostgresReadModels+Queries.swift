import AvailCore
import AvailStore
import Foundation
import NIOCore
import NIOFoundationCompat
import PostgresNIO

extension PostgresReadModels {
    public func experts() async throws -> [String: ExpertProfile] {
        var experts: [String: ExpertProfile] = [:]
        let decoder = JSONDecoder()
        for row in try await database.query("SELECT profile FROM expert_profiles") {
            let expert = try decoder.decode(ExpertProfile.self, from: try row.decode(ByteBuffer.self))
            experts[expert.id] = expert
        }
        return experts
    }

    public func expert(id: String) async throws -> ExpertProfile? {
        try await database.query("SELECT profile FROM expert_profiles WHERE id = \(id)").first.map { row in
            try JSONDecoder().decode(ExpertProfile.self, from: try row.decode(ByteBuffer.self))
        }
    }

    public func appointment(id: String) async throws -> Appointment? {
        try await database.query("SELECT appointment FROM appointments WHERE id = \(id)").first.map { row in
            try JSONDecoder().decode(Appointment.self, from: try row.decode(ByteBuffer.self))
        }
    }

    public func eventTypeURI(ofAppointment id: String) async throws -> String? {
        try await database.query("SELECT event_type_uri FROM appointments WHERE id = \(id)").first?.decode(String?.self)
    }

    public func appointments(_ query: AppointmentQuery) async throws -> AppointmentPage {
        // Walks the (expert_id, coalesce(start_time, ''), id) index: absent start times sort
        // first, as in SQLite.
        var bindings = PostgresBindings()
        func bind(_ value: String) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        var sql = "SELECT appointment FROM appointments WHERE expert_id = \(bind(query.expertID))"
        if let status = query.status { sql += " AND status = \(bind(status.rawValue))" }
        if let from = query.from { sql += " AND start_time >= \(bind(from.description))" }
        if let to = query.to { sql += " AND start_time < \(bind(to.description))" }
        if let after = query.after {
            sql += " AND (coalesce(start_time, ''), id) > (\(bind(after.startTime)), \(bind(after.id)))"
        }
        bindings.append(query.limit + 1)
        sql += " ORDER BY coalesce(start_time, ''), id LIMIT $\(bindings.count)"
        let decoder = JSONDecoder()
        let fetched = try await database.query(PostgresQuery(unsafeSQL: sql, binds: bindings)).map { row in
            try decoder.decode(Appointment.self, from: try row.decode(ByteBuffer.self))
        }
        return AppointmentPage(fetched: fetched, limit: query.limit)
    }

    public func parked(after position: Int64, limit: Int) async throws -> [ParkedEvent] {
        try await database.query("""
            SELECT position, type, reason, recorded_at FROM parked_events WHERE position > \(position)
            ORDER BY position LIMIT \(limit)
            """
        ).map { row in
            let (position, type, reason, recordedAt) = try row.decode((Int64, String, String, String).self)
            return ParkedEvent(
                position: position, type: type, reason: reason,
                recordedAt: Timestamp(rfc3339: recordedAt) ?? Timestamp(microseconds: 0))
        }
    }

    public func busyTimes(expertID: String, overlapping range: TimeRange, excluding excluded: String?) async throws -> [TimeRange] {
        try await database.query("""
            SELECT start_time, end_time FROM appointments
            WHERE expert_id = \(expertID) AND status = 'scheduled' AND start_time < \(range.end.description)
              AND end_time > \(range.start.description) AND id IS DISTINCT FROM \(excluded)
            ORDER BY start_time, end_time
            """
        ).compactMap { row in
            let (start, end) = try row.decode((String, String).self)
            guard let start = Timestamp(rfc3339: start), let end = Timestamp(rfc3339: end) else { return nil }
            return TimeRange(start: start, end: end)
        }
    }

    public func facts(of uris: Set<String>) async throws -> [String: AppointmentFacts] {
        guard !uris.isEmpty else { return [:] }
        var facts: [String: AppointmentFacts] = [:]
        func load(_ statement: PostgresQuery) async throws {
            for row in try await database.query(statement) {
                let stored = try row.decode(ByteBuffer.self)
                let item = try stored.withUnsafeReadableBytes { try AppointmentFacts(compact: $0) }
                facts[item.inviteeURI] = item
            }
        }
        try await load(
            "SELECT facts FROM appointments WHERE calendar_type = 'calendly' AND id = ANY(\(uris.map(Appointment.id(inviteeURI:))))")
        let undescribed = uris.filter { facts[$0] == nil }
        if !undescribed.isEmpty {
            try await load("SELECT facts FROM invitee_facts WHERE invitee_uri = ANY(\(Array(undescribed)))")
        }
        return facts
    }

    public func inviteeCounts(ofScheduledEvents uuids: Set<String>) async throws -> [String: (total: Int, active: Int)] {
        guard !uuids.isEmpty else { return [:] }
        var counts: [String: (total: Int, active: Int)] = [:]
        for row in try await database.query("""
            SELECT external_calendar_event_id, count(*), count(*) FILTER (WHERE status = 'scheduled')
            FROM appointments WHERE calendar_type = 'calendly' AND external_calendar_event_id = ANY(\(Array(uuids)))
            GROUP BY external_calendar_event_id
            """)
        {
            let (event, total, active) = try row.decode((String, Int64, Int64).self)
            counts[event] = (Int(total), Int(active))
        }
        return counts
    }

    /// Every chain followed back in one statement, so every answer comes from the same snapshot.
    public func rescheduleOrigins(of ids: [String]) async throws -> [String: CalendarFeed.Origin] {
        guard !ids.isEmpty else { return [:] }
        var origins: [String: CalendarFeed.Origin] = [:]
        for row in try await database.query("""
            WITH RECURSIVE chain(start, id, previous, hops) AS (
                SELECT id, id, rescheduled_from, 0 FROM appointments WHERE id = ANY(\(ids))
                UNION ALL
                SELECT chain.start, a.id, a.rescheduled_from, chain.hops + 1
                FROM appointments a JOIN chain ON a.id = chain.previous
                WHERE chain.hops < \(ReadModels.maxChainHops)
            )
            SELECT DISTINCT ON (start) start, id, previous, hops FROM chain ORDER BY start, hops DESC
            """)
        {
            let (start, id, previous, hops) = try row.decode((String, String, String?, Int32).self)
            // A `rescheduled_from` with no row (a Calendly reschedule whose old invitee was
            // never described) still names the chain's first: ids are made from invitee URIs.
            if let previous {
                origins[start] = CalendarFeed.Origin(firstID: previous, hops: Int(hops) + 1)
            } else {
                origins[start] = CalendarFeed.Origin(firstID: id, hops: Int(hops))
            }
        }
        return origins
    }
}
