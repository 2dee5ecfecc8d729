/// An expert's appointments as an iCalendar (RFC 5545) `VCALENDAR`, `METHOD:PUBLISH`.
///
/// A pure function of the appointments and what their reschedule chains are, so the same read
/// models always give the same bytes: the body's hash is the `ETag`, and a `DTSTAMP` of "now"
/// would make every fetch look like a change. Each `VEVENT` stands for a whole reschedule
/// chain: its `UID` is made from the chain's first appointment and never changes, its
/// `SEQUENCE` counts the hops (and one more once it is canceled), and the superseded
/// appointments of a chain are not listed at all.
public struct CalendarFeed: Sendable {
    /// Where an appointment's reschedule chain began, and how many reschedules led to it.
    public struct Origin: Sendable, Equatable {
        public var firstID: String
        public var hops: Int

        public init(firstID: String, hops: Int) {
            self.firstID = firstID
            self.hops = hops
        }
    }

    public static let productID = "-//availd//calendar feed//EN"

    public var calendarName: String
    public var appointments: [Appointment]
    /// By appointment id; an appointment missing here is its own chain's first, with no hops.
    public var origins: [String: Origin]

    public init(calendarName: String, appointments: [Appointment], origins: [String: Origin]) {
        self.calendarName = calendarName
        self.appointments = appointments
        self.origins = origins
    }

    /// The `UID` of a chain that began with appointment `firstID`.
    public static func uid(firstID: String) -> String {
        "\(firstID)@availd"
    }

    /// Whether `appointment` is a `VEVENT`: it has a start time and is not superseded.
    public static func isListed(_ appointment: Appointment) -> Bool {
        appointment.startTime != nil && appointment.status != .rescheduled
    }

    /// The calendar, folded, CRLF-ended, UTF-8.
    public func render() -> [UInt8] {
        var lines = ICalendarLines()
        lines.append("BEGIN", "VCALENDAR")
        lines.append("VERSION", "2.0")
        lines.append("PRODID", text: Self.productID)
        lines.append("CALSCALE", "GREGORIAN")
        lines.append("METHOD", "PUBLISH")
        lines.append("X-WR-CALNAME", text: calendarName)
        for appointment in appointments where Self.isListed(appointment) {
            event(appointment, into: &lines)
        }
        lines.append("END", "VCALENDAR")
        return lines.utf8
    }

    private func event(_ appointment: Appointment, into lines: inout ICalendarLines) {
        guard let start = appointment.startTime else { return }
        let origin = origins[appointment.id] ?? Origin(firstID: appointment.id, hops: 0)
        let canceled = appointment.status == .canceled
        let modified = appointment.updatedAt ?? appointment.createdAt
        lines.append("BEGIN", "VEVENT")
        lines.append("UID", text: Self.uid(firstID: origin.firstID))
        // When this version of the event came to be: from the read model, never the clock.
        lines.append("DTSTAMP", utc: modified ?? start)
        lines.append("DTSTART", utc: start)
        if let end = appointment.endTime, end > start { lines.append("DTEND", utc: end) }
        lines.append("SEQUENCE", String(origin.hops + (canceled ? 1 : 0)))
        lines.append("SUMMARY", text: appointment.invitee.name.flatMap { $0.isEmpty ? nil : $0 } ?? "Appointment")
        lines.append("STATUS", canceled ? "CANCELLED" : "CONFIRMED")
        lines.append("TRANSP", canceled ? "TRANSPARENT" : "OPAQUE")
        if let created = appointment.createdAt { lines.append("CREATED", utc: created) }
        if let modified { lines.append("LAST-MODIFIED", utc: modified) }
        lines.append("END", "VEVENT")
    }
}
