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
        /// Canceled by a reschedule (`POST /_sim/reschedule`), which made `newInvitee`.
        var rescheduled = false
        /// The invitee this one replaced by rescheduling.
        var oldInvitee: String? = nil
        /// The invitee that replaced this one.
        var newInvitee: String? = nil
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

    /// The last path segment of `eventURI`.
    var eventUUID: String { String(eventURI.split(separator: "/").last ?? "") }

    /// The invitee and its event canceled, both updated at the cancellation's time.
    mutating func cancel(_ cancellation: Cancellation) {
        self.cancellation = cancellation
        invitee.status = "canceled"
        invitee.updatedAt = cancellation.createdAt
        eventUpdatedAt = cancellation.createdAt
    }
}

final class StandInBookings: Sendable {
    /// By scheduled-event UUID.
    private let bookings = Mutex<[String: StandInBooking]>([:])

    /// A new scheduled event of `eventType` with one invitee, as `POST /invitees` makes it.
    func book(_ eventType: CalendlyEventType, owner: CalendlyUser, start: Timestamp, name: String, email: String, timezone: String?)
        -> StandInBooking
    {
        let booking = Self.booking(eventType, owner: owner, start: start, name: name, email: email, timezone: timezone, at: .now())
        bookings.withLock { $0[booking.eventUUID] = booking }
        return booking
    }

    private static func booking(
        _ eventType: CalendlyEventType, owner: CalendlyUser, start: Timestamp, name: String, email: String, timezone: String?,
        at time: Timestamp
    ) -> StandInBooking {
        let now = "\(time)"
        let eventUUID = UUID().uuidString.lowercased(), inviteeUUID = UUID().uuidString.lowercased()
        let eventURI = "https://api.calendly.com/scheduled_events/\(eventUUID)"
        let minutes = Int64(CalendlyConfig.slotMinutes(eventType.duration))
        return StandInBooking(
            eventURI: eventURI, eventName: eventType.name, eventType: eventType.uri, start: start,
            end: Timestamp(microseconds: start.microseconds + minutes * 60_000_000), host: owner, eventCreatedAt: now,
            eventUpdatedAt: now,
            invitee: .init(
                uri: "\(eventURI)/invitees/\(inviteeUUID)", email: email, name: name, timezone: timezone, status: "active",
                createdAt: now, updatedAt: now, cancelURL: "https://calendly.com/cancellations/\(inviteeUUID)",
                rescheduleURL: "https://calendly.com/reschedulings/\(inviteeUUID)"),
            cancellation: nil)
    }

    /// The scheduled events `isIncluded` keeps, by start time. Filtered before they are copied
    /// out and sorted: a listing of one user's events among tens of thousands costs what that
    /// user's events cost (`bench/reconcile.py`), not a sort of every booking.
    func all(where isIncluded: (StandInBooking) -> Bool) -> [StandInBooking] {
        bookings.withLock { bookings in
            bookings.values.filter(isIncluded).sorted { ($0.start, $0.eventURI) < ($1.start, $1.eventURI) }
        }
    }

    func booking(eventUUID: String) -> StandInBooking? {
        bookings.withLock { $0[eventUUID] }
    }

    /// The booking whose invitee is `inviteeURI`.
    func booking(inviteeURI: String) -> StandInBooking? {
        bookings.withLock { $0.values.first { $0.invitee.uri == inviteeURI } }
    }

    /// Cancels the event and its invitee; nil when there is none or it is canceled already.
    func cancel(eventUUID: String, reason: String?, by host: String, at: Timestamp) -> StandInBooking? {
        bookings.withLock { bookings in
            guard var booking = bookings[eventUUID], booking.isActive else { return nil }
            booking.cancel(.init(canceledBy: host, reason: reason, cancelerType: "host", createdAt: "\(at)"))
            bookings[eventUUID] = booking
            return booking
        }
    }

    /// The invitee of `old` moves to `start` through its `reschedule_url`, as Calendly does it
    /// (an invitee reschedules through its `reschedule_url`; the API has no call for it): the old invitee and its event are canceled by the invitee,
    /// `rescheduled` and linked to a new invitee on a new scheduled event, which links back.
    /// Both in one step; nil when `old` is no longer active.
    func reschedule(_ old: StandInBooking, to start: Timestamp, eventType: CalendlyEventType, at time: Timestamp)
        -> (old: StandInBooking, new: StandInBooking)?
    {
        var new = Self.booking(
            eventType, owner: old.host, start: start, name: old.invitee.name, email: old.invitee.email,
            timezone: old.invitee.timezone, at: time)
        new.invitee.oldInvitee = old.invitee.uri
        return bookings.withLock { bookings in
            guard var canceled = bookings[old.eventUUID], canceled.isActive else { return nil }
            canceled.cancel(.init(canceledBy: old.invitee.name, reason: nil, cancelerType: "invitee", createdAt: "\(time)"))
            canceled.invitee.rescheduled = true
            canceled.invitee.newInvitee = new.invitee.uri
            bookings[canceled.eventUUID] = canceled
            bookings[new.eventUUID] = new
            return (canceled, new)
        }
    }

    /// Times already taken for an event type.
    func busy(eventType: String) -> [TimeRange] {
        bookings.withLock { bookings in
            bookings.values.filter { $0.eventType == eventType && $0.isActive }.map { TimeRange(start: $0.start, end: $0.end) }
        }
    }
}
