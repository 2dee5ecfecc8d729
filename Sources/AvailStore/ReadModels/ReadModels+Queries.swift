import AvailCore
import GRDB

/// A page of an expert's appointments, ordered by `start_time` then `id`.
public struct AppointmentPage: Sendable {
    public var appointments: [Appointment]
    /// Where the next page starts; nil on the last page.
    public var next: AppointmentCursor?

    /// The page from what a query fetched: up to `limit` appointments and one more, which
    /// only says that there is a next page.
    public init(fetched: [Appointment], limit: Int) {
        appointments = Array(fetched.prefix(limit))
        next = fetched.count > limit ? appointments.last.map { AppointmentCursor(startTime: $0.startTime?.description ?? "", id: $0.id) } : nil
    }
}

/// A position in the `(start_time, id)` order.
public struct AppointmentCursor: Sendable, Equatable {
    /// Empty for an appointment without a start time (those sort first).
    public var startTime: String
    public var id: String

    public init(startTime: String, id: String) {
        self.startTime = startTime
        self.id = id
    }
}

public struct AppointmentQuery: Sendable {
    public var expertID: String
    public var status: AppointmentStatus?
    /// Bounds on `start_time`: `from` inclusive, `to` exclusive.
    public var from: Timestamp?
    public var to: Timestamp?
    public var after: AppointmentCursor?
    public var limit: Int

    public init(
        expertID: String, status: AppointmentStatus? = nil, from: Timestamp? = nil, to: Timestamp? = nil,
        after: AppointmentCursor? = nil, limit: Int = 100
    ) {
        self.expertID = expertID
        self.status = status
        self.from = from
        self.to = to
        self.after = after
        self.limit = limit
    }
}

extension ReadModels {
    public func expert(id: String) async throws -> ExpertProfile? {
        try await database.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM expert_profiles WHERE id = ?"), arguments: [id])
                .map(ExpertProfile.init(row:))
        }
    }

    public func appointment(id: String) async throws -> Appointment? {
        try await database.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM appointments WHERE id = ?"), arguments: [id]).map(Appointment.init(row:))
        }
    }

    /// The Calendly event type of appointment `id`, as its deliveries name it.
    public func eventTypeURI(ofAppointment id: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT event_type_uri FROM appointments WHERE id = ?", arguments: [id])
        }
    }

    public func appointments(_ query: AppointmentQuery) async throws -> AppointmentPage {
        try await database.read { db in
            // Walks the (expert_id, start_time, id) index; NULL start times are stored as ''
            // for the comparison so they sort first, as in the index.
            var sql = "SELECT * FROM appointments WHERE expert_id = ?"
            var arguments: StatementArguments = [query.expertID]
            if let status = query.status {
                sql += " AND status = ?"
                arguments += [status.rawValue]
            }
            if let from = query.from {
                sql += " AND start_time >= ?"
                arguments += [from.description]
            }
            if let to = query.to {
                sql += " AND start_time < ?"
                arguments += [to.description]
            }
            if let after = query.after {
                sql += " AND (coalesce(start_time, ''), id) > (?, ?)"
                arguments += [after.startTime, after.id]
            }
            sql += " ORDER BY start_time, id LIMIT ?"
            arguments += [query.limit + 1]
            return AppointmentPage(fetched: try Row.fetchAll(db, sql: sql, arguments: arguments).map(Appointment.init(row:)), limit: query.limit)
        }
    }

    public func parked(after position: Int64, limit: Int) async throws -> [ParkedEvent] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM parked_events WHERE position > ? ORDER BY position LIMIT ?",
                arguments: [position, limit]
            ).map { row in
                ParkedEvent(
                    position: row["position"], type: row["type"], reason: row["reason"],
                    recordedAt: Timestamp(rfc3339: row["recorded_at"]) ?? Timestamp(microseconds: 0))
            }
        }
    }
}

extension ReadModels {
    public func busyTimes(expertID: String, overlapping range: TimeRange, excluding excluded: String?) async throws
        -> [TimeRange]
    {
        try await database.read { db in
            // Walks the (expert_id, start_time) index up to the range's end; the end-time test
            // keeps the ones still running at its start.
            // Prepared once per connection; columns by index from a cursor: no `Row` kept per
            // appointment, and no column looked up by name (which lowercases it), for the 500
            // rows of a busy month.
            let statement = try db.cachedStatement(sql: """
                SELECT start_time, end_time FROM appointments
                WHERE expert_id = ? AND status = 'scheduled' AND start_time < ? AND end_time > ? AND id IS NOT ?
                ORDER BY start_time, end_time
                """)
            let rows = try Row.fetchCursor(statement, arguments: [expertID, range.end.description, range.start.description, excluded])
            var busy: [TimeRange] = []
            while let row = try rows.next() {
                guard let start = Timestamp(rfc3339: row[0] as String), let end = Timestamp(rfc3339: row[1] as String) else { continue }
                busy.append(TimeRange(start: start, end: end))
            }
            return busy
        }
    }
}

extension ReadModels {
    public func facts(of uris: Set<String>) async throws -> [String: AppointmentFacts] {
        try await database.read { db in try Self.facts(for: uris, db) }
    }

    public func inviteeCounts(ofScheduledEvents uuids: Set<String>) async throws -> [String: (total: Int, active: Int)] {
        let counts = try await database.read { db -> [String: [Int]] in
            var counts: [String: [Int]] = [:]
            for row in try Self.rows(
                """
                SELECT external_calendar_event_id AS event, count(*) AS total, sum(status = 'scheduled') AS active
                FROM appointments WHERE calendar_type = 'calendly' AND external_calendar_event_id IN (%)
                GROUP BY external_calendar_event_id
                """, uuids, db)
            {
                counts[row["event"]] = [row["total"], row["active"]]
            }
            return counts
        }
        return counts.mapValues { (total: $0[0], active: $0[1]) }
    }
}
