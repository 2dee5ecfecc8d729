import AvailClient
import AvailCore
import AvailStore
import Foundation
import Hummingbird

/// Booking, rescheduling and canceling through the expert's strategy. Served for native
/// schedules; a Calendly expert needs the Calendly API client (issue 4) and answers 501.
///
/// Decisions are made under a per-expert lock, after the read models caught up with the log,
/// and each answers only once its event is projected: so of two bookings racing for one slot,
/// the second sees the first and is refused.
struct BookingController: Sendable {
    let log: EventLog
    let readModels: ReadModels
    let commands: Commands
    let progress: ProjectionProgress
    let locks: KeyedLock
    /// Present when a Calendly token is configured.
    let calendly: CalendlyClient?

    func addRoutes(to group: RouterGroup<some RequestContext>) {
        group.post("/experts/:id/appointments") { request, context in try await self.book(request, context: context) }
        group.patch("/appointments/:id") { request, context in try await self.reschedule(request, context: context) }
        group.post("/appointments/:id/cancel") { request, context in try await self.cancel(request, context: context) }
    }

    struct BookingRequest: Decodable {
        var startTime: String
        var invitee: Invitee

        struct Invitee: Decodable {
            var name: String
            var email: String
            var timezone: String?
        }

        enum CodingKeys: String, CodingKey {
            case invitee
            case startTime = "start_time"
        }
    }

    struct RescheduleRequest: Decodable {
        var startTime: String
        enum CodingKeys: String, CodingKey { case startTime = "start_time" }
    }

    struct CancelRequest: Decodable {
        var reason: String?
    }

    func book(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let body = try await request.decodeJSON(BookingRequest.self)
        let start = try Self.time(body.startTime, field: "start_time")
        let invitee = try Self.invitee(body.invitee)
        let appointment = try await locks.withLock(id) {
            try await self.catchUp()
            if let expert = try await self.readModels.expert(id: id), expert.integrationType == .calendly {
                return try await self.bookThroughCalendly(expert, start: start, invitee: invitee)
            }
            let (expert, calculator) = try await self.nativeExpert(id)
            let end = Timestamp(microseconds: start.microseconds + Int64(calculator.schedule.durationMinutes) * 60_000_000)
            try await self.requireFree(start, calculator, expertID: expert.id)
            let appointmentID = UUID().uuidString.lowercased()
            try await self.commands.record(.booked(AppointmentBooked(
                appointmentID: appointmentID, expertID: expert.id, startTime: start, endTime: end, invitee: invitee, at: .now())))
            return try await self.appointment(appointmentID)
        }
        return .json(bytes: appointment.canonicalJSON(), status: .created)
    }

    func reschedule(_ request: Request, context: some RequestContext) async throws -> Response {
        let existing = try await appointment(context.parameters.get("id") ?? "")
        let body = try await request.decodeJSON(RescheduleRequest.self)
        let start = try Self.time(body.startTime, field: "start_time")
        let moved = try await locks.withLock(existing.expertID ?? "") {
            if existing.calendarType == "calendly" { return try await self.rescheduleThroughCalendly(existing.id, to: start) }
            let current = try await self.nativeScheduled(existing.id)
            let (expert, calculator) = try await self.nativeExpert(current.expertID ?? "")
            let end = Timestamp(microseconds: start.microseconds + Int64(calculator.schedule.durationMinutes) * 60_000_000)
            // Its own slot is free for it: moving by half an hour within it is fine.
            try await self.requireFree(start, calculator, expertID: expert.id, excluding: current.id)
            let newID = UUID().uuidString.lowercased()
            try await self.commands.record(.rescheduled(AppointmentRescheduled(
                appointmentID: current.id, newAppointmentID: newID, startTime: start, endTime: end, at: .now())))
            return try await self.appointment(newID)
        }
        return .json(bytes: moved.canonicalJSON())
    }

    func cancel(_ request: Request, context: some RequestContext) async throws -> Response {
        let existing = try await appointment(context.parameters.get("id") ?? "")
        let body = try await request.decodeJSON(CancelRequest.self)
        if let reason = body.reason, reason.count > 1000 { throw Problem.invalidField("reason", "must be at most 1000 characters") }
        let canceled = try await locks.withLock(existing.expertID ?? "") {
            if existing.calendarType == "calendly" { return try await self.cancelThroughCalendly(existing.id, reason: body.reason) }
            let current = try await self.nativeScheduled(existing.id)
            try await self.commands.record(.canceled(AppointmentCanceled(appointmentID: current.id, reason: body.reason, at: .now())))
            return try await self.appointment(current.id)
        }
        return .json(bytes: canceled.canonicalJSON())
    }

    // MARK: Decisions

    /// The expert, with a native schedule; otherwise the refusal its integration calls for.
    private func nativeExpert(_ id: String) async throws -> (ExpertProfile, SlotCalculator) {
        try await catchUp()
        guard let expert = try await readModels.expert(id: id) else { throw Problem.notFound("no expert \(id)") }
        switch expert.integrationType {
        case .none:
            throw Problem(.conflict, code: "no_integration", detail: "expert \(id) has no availability integration")
        case .calendly:
            throw Self.calendlyNotYet
        case .native:
            guard let schedule = expert.nativeSchedule else { throw Problem.notFound("expert \(id) has no schedule") }
            return (expert, try SlotCalculator(schedule: schedule))
        }
    }

    /// A native appointment still scheduled, as the read models have it now.
    private func nativeScheduled(_ id: String) async throws -> Appointment {
        try await catchUp()
        let appointment = try await appointment(id)
        guard appointment.calendarType == "native" else { throw Self.calendlyNotYet }
        guard appointment.status == .scheduled else {
            throw Problem(.conflict, code: "not_scheduled", detail: "appointment \(id) is \(appointment.status.rawValue)")
        }
        return appointment
    }

    private func requireFree(_ start: Timestamp, _ calculator: SlotCalculator, expertID: String, excluding: String? = nil) async throws {
        let schedule = calculator.schedule
        let margin = Int64(schedule.bufferBeforeMinutes + schedule.bufferAfterMinutes + schedule.durationMinutes) * 60_000_000
        let busy = try await readModels.busyTimes(
            expertID: expertID,
            overlapping: TimeRange(
                start: Timestamp(microseconds: start.microseconds - margin), end: Timestamp(microseconds: start.microseconds + margin)),
            excluding: excluding)
        guard calculator.offers(start, now: .now(), busy: busy) else {
            throw Problem(.conflict, code: "slot_unavailable", detail: "\(start) is not a free slot of this expert")
        }
    }

    /// Waits until the read models include everything logged so far (deliveries included).
    private func catchUp() async throws {
        let head = try await log.lastPosition()
        guard await progress.wait(for: head, timeout: commands.waitTimeout) else { throw Problem.projectionLag(head) }
    }

    private func appointment(_ id: String) async throws -> Appointment {
        guard let appointment = try await readModels.appointment(id: id) else { throw Problem.notFound("no appointment \(id)") }
        return appointment
    }

    private static let calendlyNotYet = Problem(
        .notImplemented, code: "not_implemented", detail: "this change is not possible for this appointment")

    private static func time(_ text: String, field: String) throws -> Timestamp {
        guard let time = Timestamp(rfc3339: text) else {
            throw Problem.invalidField(field, "must be an RFC 3339 time such as 2026-12-07T09:00:00Z")
        }
        return time
    }

    private static func invitee(_ invitee: BookingRequest.Invitee) throws -> Appointment.Invitee {
        let name = invitee.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count) else { throw Problem.invalidField("invitee.name", "must be 1 to 200 characters") }
        let email = invitee.email.trimmingCharacters(in: .whitespacesAndNewlines)
        guard ExpertController.looksLikeEmail(email) else { throw Problem.invalidField("invitee.email", "must be an email address") }
        if let zone = invitee.timezone, !TimeZoneName.isValid(zone) {
            throw Problem.invalidField("invitee.timezone", "must be an IANA time zone such as Europe/Berlin")
        }
        return Appointment.Invitee(name: name, email: email, timezone: invitee.timezone)
    }
}
