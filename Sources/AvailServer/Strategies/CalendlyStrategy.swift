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
    /// Which token speaks for an expert (their own account's, or the organization's).
    let connections: CalendlyConnections
    let availability: CalendlyAvailability
    let readModels: any ReadModelQueries
    let commands: Commands

    func slots(for expert: ExpertProfile, eventType: String?, in range: TimeRange) async throws -> [TimeRange] {
        guard connections.canAsk(for: expert) else { throw CalendlyFailure.noToken }
        let chosen = try self.eventType(eventType, of: expert)
        return try await availability.slots(for: expert.id, eventType: chosen, in: range) { [connections] type, start, end in
            try await connections.perform(for: expert) { client throws(CalendlyError) in
                try await client.availableTimes(eventType: type, start: start, end: end)
            }
        }
    }

    func book(for expert: ExpertProfile, eventType: String?, at start: Timestamp, invitee: Appointment.Invitee) async throws -> Appointment {
        guard connections.canAsk(for: expert) else { throw CalendlyFailure.noToken }
        let chosen = try self.eventType(eventType, of: expert)
        return try await recordBooking(try await book(chosen, for: expert, at: start, invitee: invitee), oldInvitee: nil)
    }

    func cancel(_ appointment: Appointment, of expert: ExpertProfile?, reason: String?) async throws -> Appointment {
        let appointment = try scheduled(appointment)
        try await cancelAtCalendly(appointment, of: expert, reason: reason)
        return try await recordCancellation(appointment, of: expert, newInvitee: nil)
    }

    /// Calendly has no reschedule: book the new time, cancel the old, and record both linked
    /// as a reschedule. If the cancel fails, the new booking is recorded on its own and the
    /// answer says the old one still stands: nothing half-linked.
    func reschedule(_ appointment: Appointment, of expert: ExpertProfile?, to start: Timestamp) async throws -> Appointment {
        let old = try scheduled(appointment)
        guard let expert, expert.integrationType == .calendly else {
            throw BookingRefusal.notOnCalendly
        }
        // The same event type, if the expert still offers it; else the default.
        let config = expert.calendlyConfig
        let oldEventType = try await readModels.eventTypeURI(ofAppointment: old.id)
        guard let chosen = oldEventType.flatMap({ config?.eventType($0) }) ?? config?.eventType(nil) else { throw BookingRefusal.eventTypeUnresolved(expert: expert.id) }
        let booked = try await book(chosen, for: expert, at: start, invitee: old.invitee)
        do {
            try await cancelAtCalendly(old, of: expert, reason: "Rescheduled")
        } catch {
            let recorded = try await recordBooking(booked, oldInvitee: nil)
            throw CalendlyFailure.unavailable("the new time is booked (appointment \(recorded.id)) but Calendly did not cancel the old one: \(error)")
        }
        let new = try await recordBooking(booked, oldInvitee: old.externalInviteeURI)
        _ = try await recordCancellation(old, of: expert, newInvitee: booked.inviteeURI)
        return try await readModels.appointment(id: new.id) ?? new
    }

    // MARK: Steps

    /// What Calendly says of one invitee: its Invitee resource and its Scheduled Event's.
    private struct Answered {
        var inviteeURI: String
        var invitee: Data
        var scheduledEvent: Data
    }

    /// Books at Calendly, then reads the scheduled event: `POST /invitees` answers the
    /// Invitee without the event's times, event type or hosts.
    private func book(_ eventType: ChosenEventType, for expert: ExpertProfile, at start: Timestamp, invitee: Appointment.Invitee) async throws -> Answered {
        guard let uri = eventType.uri else { throw BookingRefusal.eventTypeUnresolved(expert: expert.id) }
        let resource: Data
        do {
            resource = try await connections.perform(for: expert) { client throws(CalendlyError) in
                try await client.book(
                    eventType: uri, start: "\(start)", name: invitee.name ?? "", email: invitee.email ?? "", timezone: invitee.timezone)
            }
        } catch CalendlyError.refused(status: 400, let message) {
            throw BookingRefusal.slotUnavailable(reason: "Calendly: \(message)")
        } catch let error as CalendlyError {
            throw Self.upstream(error)
        }
        return try await answered(booking: resource, for: expert)
    }

    private func answered(booking invitee: Data, for expert: ExpertProfile) async throws -> Answered {
        guard let uri = CalendlyBooking.inviteeURI(invitee), let event = CalendlyBooking.scheduledEventURI(invitee) else {
            throw Self.upstream(.unexpected("the booked invitee has no uri or event"))
        }
        do {
            let scheduledEvent = try await connections.perform(for: expert) { client throws(CalendlyError) in try await client.scheduledEvent(uri: event) }
            return Answered(inviteeURI: uri, invitee: invitee, scheduledEvent: scheduledEvent)
        } catch {
            throw CalendlyFailure.unavailable(
                "booked at Calendly (invitee \(uri)), but its scheduled event could not be read (\(error)); the webhook will record it")
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
            throw BookingRefusal.notProjected(appointment: Appointment.id(inviteeURI: uri))
        }
        return appointment
    }

    private func cancelAtCalendly(_ appointment: Appointment, of expert: ExpertProfile?, reason: String?) async throws {
        guard let event = appointment.externalCalendarEventID else { throw Self.upstream(.unexpected("no scheduled event")) }
        do {
            try await connections.perform(for: expert) { client throws(CalendlyError) in try await client.cancel(scheduledEvent: event, reason: reason) }
        } catch CalendlyError.refused(status: 403, let message) {
            throw BookingRefusal.canceledAtCalendly(reason: message)
        } catch let error as CalendlyError {
            throw Self.upstream(error)
        }
    }

    private func recordCancellation(_ appointment: Appointment, of expert: ExpertProfile?, newInvitee: String?) async throws -> Appointment {
        guard let uri = appointment.externalInviteeURI else { throw Self.upstream(.unexpected("no invitee uri")) }
        let resource: Data, event: Data
        do {
            (resource, event) = try await connections.perform(for: expert) { client throws(CalendlyError) in
                let resource = try await client.invitee(uri: uri)
                guard let eventURI = CalendlyBooking.scheduledEventURI(resource) else { throw CalendlyError.unexpected("no event") }
                return (resource, try await client.scheduledEvent(uri: eventURI))
            }
        } catch {
            // Canceled at Calendly; its webhook will tell the log.
            throw CalendlyFailure.unavailable(
                "canceled at Calendly, but the canceled invitee could not be read back (\(error)); the webhook will record it")
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
            throw BookingRefusal.notScheduled(appointment: id, status: appointment.status)
        }
        return appointment
    }

    /// The event type `uri` of the expert's (nil: the default), resolved.
    private func eventType(_ uri: String?, of expert: ExpertProfile) throws -> ChosenEventType {
        guard let config = expert.calendlyConfig else { throw BookingRefusal.eventTypeUnresolved(expert: expert.id) }
        guard let chosen = config.eventType(uri) else {
            throw BookingRefusal.eventTypeNotOffered(expert: expert.id)
        }
        guard chosen.uri != nil else { throw BookingRefusal.eventTypeUnresolved(expert: expert.id) }
        return chosen
    }

    static func upstream(_ error: CalendlyError) -> CalendlyFailure {
        .unavailable("\(error)")
    }
}
