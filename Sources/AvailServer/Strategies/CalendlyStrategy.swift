import AvailClient
import AvailCore
import AvailStore
import Foundation
import Hummingbird

/// The Calendly strategy: availability from Calendly's available times (cached, see
/// `CalendlyAvailability`); changes made through Calendly's API, then recorded in the log with
/// the Invitee and Scheduled Event resources Calendly answered (the Invitee alone has no times,
/// event type or hosts), so the appointment is complete at once and the webhook Calendly sends
/// afterwards lands on the same appointment (one per invitee URI).
struct CalendlyStrategy: AvailabilityStrategy {
    /// Nil without a Calendly token: every call then answers 502.
    let calendly: CalendlyClient?
    let availability: CalendlyAvailability?
    let readModels: ReadModels
    let commands: Commands

    func slots(for expert: ExpertProfile, in range: TimeRange) async throws -> [TimeRange] {
        guard let availability else { throw Self.notConfigured }
        return try await availability.slots(for: expert, in: range)
    }

    func book(for expert: ExpertProfile, at start: Timestamp, invitee: Appointment.Invitee) async throws -> Appointment {
        let (client, eventType) = try calendlyEventType(of: expert)
        let resource: Data
        do {
            resource = try await client.book(
                eventType: eventType, start: "\(start)", name: invitee.name ?? "", email: invitee.email ?? "", timezone: invitee.timezone)
        } catch .refused(status: 400, let message) {
            throw Problem(.conflict, code: "slot_unavailable", detail: "Calendly: \(message)")
        } catch {
            throw Self.upstream(error)
        }
        return try await recordBooking(try await answered(booking: resource, client: client), oldInvitee: nil)
    }

    func cancel(_ appointment: Appointment, of expert: ExpertProfile?, reason: String?) async throws -> Appointment {
        let appointment = try scheduled(appointment)
        let client = try calendlyClient()
        try await cancelAtCalendly(appointment, reason: reason, client: client)
        return try await recordCancellation(appointment, newInvitee: nil, client: client)
    }

    /// Calendly has no reschedule: book the new time, cancel the old, and record both linked
    /// as a reschedule. If the cancel fails, the new booking is recorded on its own and the
    /// answer says the old one still stands: nothing half-linked.
    func reschedule(_ appointment: Appointment, of expert: ExpertProfile?, to start: Timestamp) async throws -> Appointment {
        let old = try scheduled(appointment)
        guard let expert, expert.integrationType == .calendly else {
            throw Problem(.conflict, code: "no_integration", detail: "the appointment's expert is not connected to Calendly")
        }
        let (client, eventType) = try calendlyEventType(of: expert)
        let resource: Data
        do {
            resource = try await client.book(
                eventType: eventType, start: "\(start)", name: old.invitee.name ?? "", email: old.invitee.email ?? "",
                timezone: old.invitee.timezone)
        } catch .refused(status: 400, let message) {
            throw Problem(.conflict, code: "slot_unavailable", detail: "Calendly: \(message)")
        } catch {
            throw Self.upstream(error)
        }
        let booked = try await answered(booking: resource, client: client)
        do {
            try await cancelAtCalendly(old, reason: "Rescheduled", client: client)
        } catch {
            let recorded = try await recordBooking(booked, oldInvitee: nil)
            throw Problem(
                .badGateway, code: "upstream_unavailable",
                detail: "the new time is booked (appointment \(recorded.id)) but Calendly did not cancel the old one: \(error)")
        }
        let new = try await recordBooking(booked, oldInvitee: old.externalInviteeURI)
        _ = try await recordCancellation(old, newInvitee: booked.inviteeURI, client: client)
        return try await readModels.appointment(id: new.id) ?? new
    }

    // MARK: Steps

    /// What Calendly says of one invitee: its Invitee resource and its Scheduled Event's.
    private struct Answered {
        var inviteeURI: String
        var invitee: Data
        var scheduledEvent: Data
    }

    /// The booking Calendly answered, with its scheduled event read: `POST /invitees` answers
    /// the Invitee without the event's times, event type or hosts.
    private func answered(booking invitee: Data, client: CalendlyClient) async throws -> Answered {
        guard let uri = CalendlyBooking.inviteeURI(invitee), let event = CalendlyBooking.scheduledEventURI(invitee) else {
            throw Self.upstream(.unexpected("the booked invitee has no uri or event"))
        }
        do {
            return Answered(inviteeURI: uri, invitee: invitee, scheduledEvent: try await client.scheduledEvent(uri: event))
        } catch {
            throw Problem(
                .badGateway, code: "upstream_unavailable",
                detail: "booked at Calendly (invitee \(uri)), but its scheduled event could not be read (\(error)); the webhook will record it")
        }
    }

    private func recordBooking(_ booked: Answered, oldInvitee: String?) async throws -> Appointment {
        let uri = booked.inviteeURI
        try await commands.record(
            stream: StreamName(inviteeURI: uri) ?? StreamName(category: "invitee", id: uri),
            type: CalendlyBooking.bookedType,
            body: try CalendlyBooking.body(
                event: "invitee.created", invitee: booked.invitee, scheduledEvent: booked.scheduledEvent, at: .now(),
                oldInvitee: oldInvitee))
        guard let appointment = try await readModels.appointment(id: Appointment.id(inviteeURI: uri)) else {
            throw Problem.notFound("the booked appointment was not projected")
        }
        return appointment
    }

    private func cancelAtCalendly(_ appointment: Appointment, reason: String?, client: CalendlyClient) async throws {
        guard let event = appointment.externalCalendarEventID else { throw Self.upstream(.unexpected("no scheduled event")) }
        do {
            try await client.cancel(scheduledEvent: event, reason: reason)
        } catch .refused(status: 403, let message) {
            throw Problem(.conflict, code: "not_scheduled", detail: "Calendly: \(message)")
        } catch {
            throw Self.upstream(error)
        }
    }

    private func recordCancellation(_ appointment: Appointment, newInvitee: String?, client: CalendlyClient) async throws -> Appointment {
        guard let uri = appointment.externalInviteeURI else { throw Self.upstream(.unexpected("no invitee uri")) }
        let resource: Data, event: Data
        do {
            resource = try await client.invitee(uri: uri)
            guard let eventURI = CalendlyBooking.scheduledEventURI(resource) else { throw CalendlyError.unexpected("no event") }
            event = try await client.scheduledEvent(uri: eventURI)
        } catch {
            // Canceled at Calendly; its webhook will tell the log.
            throw Problem(
                .badGateway, code: "upstream_unavailable",
                detail: "canceled at Calendly, but the canceled invitee could not be read back (\(error)); the webhook will record it")
        }
        try await commands.record(
            stream: StreamName(inviteeURI: uri) ?? StreamName(category: "invitee", id: uri),
            type: CalendlyBooking.canceledType,
            body: try CalendlyBooking.body(
                event: "invitee.canceled", invitee: resource, scheduledEvent: event, at: .now(), newInvitee: newInvitee))
        return try await readModels.appointment(id: appointment.id) ?? appointment
    }

    private func scheduled(_ appointment: Appointment) throws -> Appointment {
        let id = appointment.id
        guard appointment.status == .scheduled else {
            throw Problem(.conflict, code: "not_scheduled", detail: "appointment \(id) is \(appointment.status.rawValue)")
        }
        return appointment
    }

    private func calendlyClient() throws -> CalendlyClient {
        guard let calendly else { throw Self.notConfigured }
        return calendly
    }

    static let notConfigured = Problem(
        .badGateway, code: "upstream_unavailable", detail: "no Calendly token is configured (--calendly-token), so Calendly cannot be asked")

    private func calendlyEventType(of expert: ExpertProfile) throws -> (CalendlyClient, String) {
        let client = try calendlyClient()
        guard let eventType = expert.calendlyConfig?.eventTypeURI else {
            throw Problem(
                .conflict, code: "event_type_unresolved",
                detail: "expert \(expert.id)'s Calendly link was not resolved to an event type; connect it again")
        }
        return (client, eventType)
    }

    static func upstream(_ error: CalendlyError) -> Problem {
        Problem(.badGateway, code: "upstream_unavailable", detail: "\(error)")
    }
}
