import AvailClient
import AvailCore
import AvailStore
import Foundation
import Hummingbird

/// Booking, rescheduling and canceling through the strategy the `AvailabilityService` picks.
///
/// Decisions are made under a per-expert lock, after the read models caught up with the log,
/// and each answers only once its event is projected: so of two bookings racing for one slot,
/// the second sees the first and is refused.
struct BookingController: Sendable {
    let log: any EventStore
    let readModels: any ReadModelQueries
    let commands: Commands
    let progress: ProjectionProgress
    let locks: KeyedLock
    /// Held with `locks` where several daemons share the database: one booking per expert at a
    /// time across all of them.
    let sharedLock: (any DatabaseLock)?
    let service: AvailabilityService

    func addRoutes(to group: RouterGroup<AvailRequestContext>) {
        group.post("/experts/:id/appointments") { request, context in try await self.book(request, context: context) }
        group.patch("/appointments/:id") { request, context in try await self.reschedule(request, context: context) }
        group.post("/appointments/:id/cancel") { request, context in try await self.cancel(request, context: context) }
    }

    struct BookingRequest: Decodable {
        var startTime: String
        var eventType: String?
        var invitee: Invitee

        struct Invitee: Decodable {
            var name: String
            var email: String
            var timezone: String?
        }

        enum CodingKeys: String, CodingKey {
            case invitee
            case startTime = "start_time", eventType = "event_type"
        }
    }

    struct RescheduleRequest: Decodable {
        var startTime: String
        enum CodingKeys: String, CodingKey { case startTime = "start_time" }
    }

    struct CancelRequest: Decodable {
        var reason: String?
    }

    func book(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        try context.principal.requireAccess(toExpert: id)
        let body = try await request.decodeJSON(BookingRequest.self)
        let start = try Self.time(body.startTime, field: "start_time")
        let invitee = try Self.invitee(body.invitee)
        let appointment = try await exclusively(id) {
            try await self.catchUp()
            let expert = try await self.expert(id)
            try EventTypeChoice.check(body.eventType, for: expert, field: "event_type")
            return try await self.service.strategy(for: expert.integrationType)
                .book(for: expert, eventType: body.eventType, at: start, invitee: invitee)
        }
        return .json(bytes: appointment.canonicalJSON(), status: .created)
    }

    func reschedule(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let existing = try await appointment(context.parameters.get("id") ?? "")
        try context.principal.requireAccess(to: existing)
        let body = try await request.decodeJSON(RescheduleRequest.self)
        let start = try Self.time(body.startTime, field: "start_time")
        let moved = try await exclusively(existing.expertID ?? "") {
            let (current, expert) = try await self.current(existing.id)
            return try await self.service.strategy(for: current).reschedule(current, of: expert, to: start)
        }
        return .json(bytes: moved.canonicalJSON())
    }

    func cancel(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let existing = try await appointment(context.parameters.get("id") ?? "")
        try context.principal.requireAccess(to: existing)
        let body = try await request.decodeJSON(CancelRequest.self)
        if let reason = body.reason { _ = try TextField.text(reason, field: "reason", maximum: 1000) }
        let canceled = try await exclusively(existing.expertID ?? "") {
            let (current, expert) = try await self.current(existing.id)
            return try await self.service.strategy(for: current).cancel(current, of: expert, reason: body.reason)
        }
        return .json(bytes: canceled.canonicalJSON())
    }

    /// Waits until the read models include everything logged so far (deliveries included).
    /// Runs `body` as the only change of `expertID`'s appointments under way: in this daemon
    /// (`locks`, in arrival order), then in every daemon on the database (`sharedLock`).
    private func exclusively<T: Sendable>(_ expertID: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try await locks.withLock(expertID) {
            guard let sharedLock else { return try await body() }
            return try await sharedLock.withLock("appointments of \(expertID)", body)
        }
    }

    private func catchUp() async throws {
        let head = try await log.lastPosition()
        guard await progress.wait(for: head, timeout: commands.waitTimeout) else { throw Problem.projectionLag(head) }
    }

    /// The appointment and its expert as they stand once the read models caught up (under the
    /// expert's lock, so no other change of that expert's is in between).
    private func current(_ id: String) async throws -> (Appointment, ExpertProfile?) {
        try await catchUp()
        let appointment = try await appointment(id)
        guard let expertID = appointment.expertID else { return (appointment, nil) }
        return (appointment, try await readModels.expert(id: expertID))
    }

    private func expert(_ id: String) async throws -> ExpertProfile {
        guard let expert = try await readModels.expert(id: id) else { throw Problem.notFound("no expert \(id)") }
        return expert
    }

    private func appointment(_ id: String) async throws -> Appointment {
        guard let appointment = try await readModels.appointment(id: id) else { throw Problem.notFound("no appointment \(id)") }
        return appointment
    }

    private static func time(_ text: String, field: String) throws -> Timestamp {
        guard let time = Timestamp(rfc3339: text) else {
            throw Problem.invalidField(field, "must be an RFC 3339 time such as 2026-12-07T09:00:00Z")
        }
        return time
    }

    private static func invitee(_ invitee: BookingRequest.Invitee) throws -> Appointment.Invitee {
        let name = try TextField.line(invitee.name, field: "invitee.name", maximum: 200)
        let email = try TextField.email(invitee.email, field: "invitee.email")
        if let zone = invitee.timezone, !TimeZoneName.isValid(zone) {
            throw Problem.invalidField("invitee.timezone", "must be an IANA time zone such as Europe/Berlin")
        }
        return Appointment.Invitee(name: name, email: email, timezone: invitee.timezone)
    }
}

