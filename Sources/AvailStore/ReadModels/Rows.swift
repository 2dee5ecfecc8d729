import AvailCore
import Foundation
import GRDB

extension ExpertProfile {
    init(row: Row) throws {
        let integration: String = row["integration_type"]
        let config: String? = row["calendly_config"]
        let schedule: String? = row["native_schedule"]
        let pastURIs: String = row["past_event_type_uris"]
        let adminEmail: String? = row["admin_email"]
        let account: String? = row["calendly_account"]
        guard let integrationType = IntegrationType(rawValue: integration),
            let createdAt = Timestamp(rfc3339: row["created_at"]), let updatedAt = Timestamp(rfc3339: row["updated_at"])
        else { throw DatabaseError(message: "expert_profiles row \(row["id"] as String) is unreadable") }
        self.init(
            id: row["id"], name: row["name"], email: row["email"], adminEmail: adminEmail, timezone: row["timezone"],
            integrationType: integrationType,
            calendlyConfig: try config.map { try ColumnJSON.decode(CalendlyConfig.self, $0) },
            calendlyAccount: try account.map { try ColumnJSON.decode(CalendlyAccount.self, $0) },
            nativeSchedule: try schedule.map { try ColumnJSON.decode(NativeSchedule.self, $0) },
            pastEventTypeURIs: try ColumnJSON.decode([String].self, pastURIs),
            createdAt: createdAt, updatedAt: updatedAt)
    }

    func save(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO expert_profiles
                (id, name, email, admin_email, timezone, integration_type, calendly_config, calendly_account,
                 native_schedule, past_event_type_uris, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                id, name, email, adminEmail, timezone, integrationType.rawValue, try calendlyConfig.map(ColumnJSON.encode),
                try calendlyAccount.map(ColumnJSON.encode), try nativeSchedule.map(ColumnJSON.encode),
                try ColumnJSON.encode(pastEventTypeURIs), createdAt.description, updatedAt.description,
            ])
    }
}

extension Appointment {
    init(row: Row) throws {
        func time(_ column: String) -> Timestamp? {
            (row[column] as String?).flatMap(Timestamp.init(rfc3339:))
        }
        let statusText: String = row["status"]
        let canceled: Bool = row["canceled"]
        guard let status = AppointmentStatus(rawValue: statusText) else {
            throw DatabaseError(message: "appointments row \(row["id"] as String) has status \(statusText)")
        }
        self.init(
            id: row["id"], expertID: row["expert_id"], calendarType: row["calendar_type"],
            externalCalendarEventID: row["external_calendar_event_id"],
            externalInviteeURI: row["external_invitee_uri"], status: status,
            startTime: time("start_time"), endTime: time("end_time"),
            invitee: Invitee(name: row["invitee_name"], email: row["invitee_email"], timezone: row["invitee_timezone"]),
            rescheduledFrom: row["rescheduled_from"], rescheduledTo: row["rescheduled_to"],
            cancellation: canceled
                ? CancellationView(
                    canceledBy: row["canceled_by"], reason: row["cancel_reason"], cancelerType: row["canceler_type"],
                    canceledAt: time("canceled_at"))
                : nil,
            noShow: row["no_show"], createdAt: time("created_at"), updatedAt: time("updated_at"))
    }
}

/// An appointment as `appointments` stores it, every column in its stored form already: rows
/// are made on every core (a rebuild) or before the write transaction (the projector), and the
/// one connection that writes only binds them.
struct AppointmentRow: Sendable {
    var id: String
    var expertID: String?
    var calendarType: String
    var externalCalendarEventID: String?
    var externalInviteeURI: String?
    var status: String
    var startTime: String?
    var endTime: String?
    var inviteeName: String?
    var inviteeEmail: String?
    var inviteeTimezone: String?
    var rescheduledFrom: String?
    var rescheduledTo: String?
    var canceled: Bool
    var canceledBy: String?
    var cancelReason: String?
    var cancelerType: String?
    var canceledAt: String?
    var noShow: Bool
    var createdAt: String?
    var updatedAt: String?
    var eventTypeURI: String?
    /// The hosts' keys (Calendly user URIs and emails): the host index's rows.
    var hostKeys: [String]
    /// What the fold resumes from: the invitee's facts (`AppointmentFacts.compact()`), or a
    /// native appointment's own JSON.
    var facts: [UInt8]

    init(_ appointment: Appointment, eventTypeURI: String?, hostKeys: [String], facts: [UInt8]) {
        id = appointment.id
        expertID = appointment.expertID
        calendarType = appointment.calendarType
        externalCalendarEventID = appointment.externalCalendarEventID
        externalInviteeURI = appointment.externalInviteeURI
        status = appointment.status.rawValue
        startTime = appointment.startTime?.description
        endTime = appointment.endTime?.description
        inviteeName = appointment.invitee.name
        inviteeEmail = appointment.invitee.email
        inviteeTimezone = appointment.invitee.timezone
        rescheduledFrom = appointment.rescheduledFrom
        rescheduledTo = appointment.rescheduledTo
        canceled = appointment.cancellation != nil
        canceledBy = appointment.cancellation?.canceledBy
        cancelReason = appointment.cancellation?.reason
        cancelerType = appointment.cancellation?.cancelerType
        canceledAt = appointment.cancellation?.canceledAt?.description
        noShow = appointment.noShow
        createdAt = appointment.createdAt?.description
        updatedAt = appointment.updatedAt?.description
        self.eventTypeURI = eventTypeURI
        self.hostKeys = hostKeys
        self.facts = facts
    }

    /// A native appointment: no event type, no hosts, its own JSON as its facts.
    init(native appointment: Appointment) {
        self.init(appointment, eventTypeURI: nil, hostKeys: [], facts: appointment.canonicalJSON())
    }

    /// The statements a batch of rows is written with, prepared once per batch.
    struct Statements {
        var insert: BoundStatement
        var insertHost: BoundStatement

        init(_ db: Database) throws {
            insert = try BoundStatement(db, """
                INSERT OR REPLACE INTO appointments
                    (id, expert_id, calendar_type, external_calendar_event_id, external_invitee_uri, status,
                     start_time, end_time, invitee_name, invitee_email, invitee_timezone, rescheduled_from,
                     rescheduled_to, canceled, canceled_by, cancel_reason, canceler_type, canceled_at, no_show,
                     created_at, updated_at, event_type_uri, host_keys, facts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            insertHost = try BoundStatement(db, "INSERT INTO appointment_hosts (host_key, appointment_id) VALUES (?, ?)")
        }
    }

    /// Writes the row, replacing what was there, and its host index: the rows of
    /// `previousHostKeys` that are no longer hosts go, new ones come.
    func save(previousHostKeys: [String] = [], _ statements: inout Statements, _ db: Database) throws {
        for text in [id, expertID, calendarType, externalCalendarEventID, externalInviteeURI, status, startTime, endTime,
            inviteeName, inviteeEmail, inviteeTimezone, rescheduledFrom, rescheduledTo] { statements.insert.text(text) }
        statements.insert.bool(canceled)
        for text in [canceledBy, cancelReason, cancelerType, canceledAt] { statements.insert.text(text) }
        statements.insert.bool(noShow)
        for text: String? in [createdAt, updatedAt, eventTypeURI, hostKeys.joined(separator: "\n")] { statements.insert.text(text) }
        statements.insert.blob(facts)
        try statements.insert.run(db)
        guard !previousHostKeys.isEmpty else {
            // A new appointment (or a rebuild): every host is new.
            for key in hostKeys { try statements.insertHost.insert(key, id, db) }
            return
        }
        // By bytes, as the table's key compares them: Swift's `==` holds two spellings of é
        // equal, and would leave a row behind that a later insert then collides with.
        let previous = Set(previousHostKeys.map { Array($0.utf8) }), current = Set(hostKeys.map { Array($0.utf8) })
        for key in previousHostKeys where !current.contains(Array(key.utf8)) {
            try db.cachedStatement(sql: "DELETE FROM appointment_hosts WHERE host_key = ? AND appointment_id = ?")
                .execute(arguments: [key, id])
        }
        for key in hostKeys where !previous.contains(Array(key.utf8)) {
            try statements.insertHost.insert(key, id, db)
        }
    }
}

extension BoundStatement {
    fileprivate mutating func insert(_ hostKey: String, _ appointmentID: String, _ db: Database) throws {
        text(hostKey)
        text(appointmentID)
        try run(db)
    }
}

extension AppointmentFacts {
    /// Facts of an invitee not described yet (a described one keeps them in its appointment).
    func save(_ db: Database) throws {
        try Self.save(uri: inviteeURI, compact: compact(), db)
    }

    static func save(uri: String, compact: [UInt8], _ db: Database) throws {
        var insert = try BoundStatement(db, "INSERT OR REPLACE INTO invitee_facts (invitee_uri, facts) VALUES (?, ?)")
        insert.text(uri)
        insert.blob(compact)
        try insert.run(db)
    }
}
