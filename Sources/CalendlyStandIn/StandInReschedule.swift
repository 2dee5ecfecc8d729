import AvailClient
import AvailCore
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /_sim/reschedule`: what an invitee does through its `reschedule_url`. Calendly has no
/// reschedule API (an invitee reschedules through its `reschedule_url`; the API has no call for it), so this is a simulation control, not a route of
/// Calendly's; what it causes is Calendly's: the old invitee canceled by the invitee with
/// `rescheduled: true` and `new_invitee`, a new invitee on a new scheduled event with
/// `old_invitee`, and the two deliveries, `invitee.canceled` and `invitee.created`.
extension CalendlyStandIn {
    struct RescheduleBody: Decodable {
        var invitee: String
        var startTime: String

        enum CodingKeys: String, CodingKey {
            case invitee
            case startTime = "start_time"
        }
    }

    static func addRescheduleRoute(to router: Router<BasicRequestContext>, seed: StandInSeed, bookings: StandInBookings, deliveries: StandInDeliveries) {
        router.post("/_sim/reschedule") { request, context -> Response in
            let body = try await request.decode(as: RescheduleBody.self, context: context)
            guard let old = bookings.booking(inviteeURI: body.invitee),
                let eventType = seed.eventTypes.first(where: { $0.uri == old.eventType })
            else { throw CalendlyProblem.invalid("invitee", "no such invitee") }
            guard old.isActive else { throw CalendlyProblem.invalid("invitee", "the invitee is canceled") }
            guard let start = Timestamp(rfc3339: body.startTime) else {
                throw CalendlyProblem.invalid("start_time", "must be an RFC 3339 time")
            }
            // The old booking still holds its time while the invitee picks a new one: a time
            // that overlaps it is not offered (undocumented; the stricter reading).
            guard try calculator(eventType, seed).offers(start, now: .now(), busy: bookings.busy(eventType: eventType.uri)) else {
                throw CalendlyProblem.invalid("start_time", "the selected time is not available")
            }
            guard let moved = bookings.reschedule(old, to: start, eventType: eventType, at: .now()) else {
                throw CalendlyProblem.invalid("invitee", "the invitee is canceled")
            }
            // Two deliveries; Calendly documents no order between them.
            try await deliveries.deliver("invitee.canceled", moved.old, by: moved.old.host)
            try await deliveries.deliver("invitee.created", moved.new, by: moved.new.host)
            var response = try json([
                "old_invitee": moved.old.invitee.uri, "new_invitee": moved.new.invitee.uri, "new_event": moved.new.eventURI,
            ])
            response.status = .created
            return response
        }
    }
}
