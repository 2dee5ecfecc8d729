import AvailCore

/// What the daemon asks the read models, whichever database holds them: SQLite's `ReadModels`
/// or PostgreSQL's `PostgresReadModels` answer every question alike (the backend tests compare
/// them answer for answer).
public protocol ReadModelQueries: Sendable {
    /// The last log position the read models include.
    func checkpoint() async throws -> Int64
    /// Every expert, by id.
    func experts() async throws -> [String: ExpertProfile]
    func expert(id: String) async throws -> ExpertProfile?
    func appointment(id: String) async throws -> Appointment?
    /// The Calendly event type of appointment `id`, as its deliveries name it.
    func eventTypeURI(ofAppointment id: String) async throws -> String?
    /// A page of an expert's appointments, ordered by start time (none first), then id.
    func appointments(_ query: AppointmentQuery) async throws -> AppointmentPage
    /// The events the projector could not apply, after `position`, oldest first.
    func parked(after position: Int64, limit: Int) async throws -> [ParkedEvent]
    /// The spans of `expertID`'s scheduled appointments (any calendar) that overlap `range`, by start.
    func busyTimes(expertID: String, overlapping range: TimeRange, excluding excluded: String?) async throws -> [TimeRange]
    /// The fold's stored facts of `uris` (an invitee the log never named has none).
    func facts(of uris: Set<String>) async throws -> [String: AppointmentFacts]
    /// How many invitees of each scheduled event (by UUID) the appointments know, and how many
    /// of them are scheduled (not canceled or rescheduled).
    func inviteeCounts(ofScheduledEvents uuids: Set<String>) async throws -> [String: (total: Int, active: Int)]
    /// Where each of `ids`' reschedule chains began and how many reschedules it took, from one
    /// snapshot (see `ReadModels.maxChainHops`).
    func rescheduleOrigins(of ids: [String]) async throws -> [String: CalendarFeed.Origin]
}

extension ReadModelQueries {
    public func parked(after position: Int64 = 0) async throws -> [ParkedEvent] {
        try await parked(after: position, limit: 100)
    }

    public func busyTimes(expertID: String, overlapping range: TimeRange) async throws -> [TimeRange] {
        try await busyTimes(expertID: expertID, overlapping: range, excluding: nil)
    }
}
