import AvailClient
import AvailCore
import Foundation
import Synchronization

/// A scheduled event booked through the stand-in, with its one invitee. What it answers is in
/// Calendly's shapes (`StandInShapes`): the API's Invitee resource carries only the event's URI,
/// and only a webhook payload embeds the scheduled event.
struct StandInBooking: Sendable {
    struct Invitee: Sendable {
        var uri: String
        var email: String
        var name: String
        var timezone: String?
        var status: String
        var createdAt: String
        var updatedAt: String
        var cancelURL: String
        var rescheduleURL: String
    }

    struct Cancellation: Sendable {
        var canceledBy: String
        var reason: String?
        var cancelerType: String
        var createdAt: String
    }

    var eventURI: String
    var eventName: String
    var eventType: String
    var start: Timestamp
    var end: Timestamp
    var host: CalendlyUser
    var eventCreatedAt: String
    var eventUpdatedAt: String
    var invitee: Invitee
    var cancellation: Cancellation?

    var isActive: Bool { cancellation == nil }
}

final class StandInBookings: Sendable {
    /// By scheduled-event UUID.
    private let bookings = Mutex<[String: StandInBooking]>([:])

    /// A new scheduled event of `eventType` with one invitee, as `POST /invitees` makes it.
    func book(_ eventType: CalendlyEventType, owner: CalendlyUser, start: Timestamp, name: String, email: String, timezone: String?)
        -> StandInBooking
    {
        let now = "\(Timestamp.now())"
        let eventUUID = UUID().uuidString.lowercased(), inviteeUUID = UUID().uuidString.lowercased()
        let eventURI = "https://api.calendly.com/scheduled_events/\(eventUUID)"
        let minutes = Int64(CalendlyConfig.slotMinutes(eventType.duration))
        let booking = StandInBooking(
            eventURI: eventURI, eventName: eventType.name, eventType: eventType.uri, start: start,
            end: Timestamp(microseconds: start.microseconds + minutes * 60_000_000), host: owner, eventCreatedAt: now,
            eventUpdatedAt: now,
            invitee: .init(
                uri: "\(eventURI)/invitees/\(inviteeUUID)", email: email, name: name, timezone: timezone, status: "active",
                createdAt: now, updatedAt: now, cancelURL: "https://calendly.com/cancellations/\(inviteeUUID)",
                rescheduleURL: "https://calendly.com/reschedulings/\(inviteeUUID)"),
            cancellation: nil)
        bookings.withLock { $0[eventUUID] = booking }
        return booking
    }

    /// Every scheduled event, by start time.
    var all: [StandInBooking] {
        bookings.withLock { $0.values.sorted { ($0.start, $0.eventURI) < ($1.start, $1.eventURI) } }
    }

    func booking(eventUUID: String) -> StandInBooking? {
        bookings.withLock { $0[eventUUID] }
    }

    /// Cancels the event and its invitee; nil when there is none or it is canceled already.
    func cancel(eventUUID: String, reason: String?, by host: String, at: Timestamp) -> StandInBooking? {
        bookings.withLock { bookings in
            guard var booking = bookings[eventUUID], booking.isActive else { return nil }
            booking.cancellation = .init(canceledBy: host, reason: reason, cancelerType: "host", createdAt: "\(at)")
            booking.invitee.status = "canceled"
            booking.invitee.updatedAt = "\(at)"
            booking.eventUpdatedAt = "\(at)"
            bookings[eventUUID] = booking
            return booking
        }
    }

    /// Times already taken for an event type.
    func busy(eventType: String) -> [TimeRange] {
        bookings.withLock { bookings in
            bookings.values.filter { $0.eventType == eventType && $0.isActive }.map { TimeRange(start: $0.start, end: $0.end) }
        }
    }
}
