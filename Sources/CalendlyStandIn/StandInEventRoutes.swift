import AvailClient
import AvailCore
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /scheduled_events` and `GET /scheduled_events/{uuid}/invitees`, paginated, for
/// reconciliation.
extension CalendlyStandIn {
    static func addEventListRoutes(to router: Router<BasicRequestContext>, state: StandInState, bookings: StandInBookings) {
        router.get("/scheduled_events") { request, _ -> Response in
            let me = try authenticate(request, state)
            let query = request.uri.queryParameters
            let user = query["user"].map(String.init), organization = query["organization"].map(String.init)
            let group = query["group"].map(String.init)
            // Exactly one: more than one is refused too (undocumented; the stricter reading).
            guard [user, organization, group].compactMap({ $0 }).count == 1 else {
                throw CalendlyProblem.invalid("user", "exactly one of user, organization or group is required")
            }
            let minStart = try query["min_start_time"].map { try time(String($0), "min_start_time") }
            let maxStart = try query["max_start_time"].map { try time(String($0), "max_start_time") }
            let status = query["status"].map(String.init)
            if let status, status != "active", status != "canceled" { throw CalendlyProblem.invalid("status", "must be active or canceled") }
            let sort = query["sort"].map(String.init) ?? "start_time:asc"
            guard sort == "start_time:asc" || sort == "start_time:desc" else {
                throw CalendlyProblem.invalid("sort", "must be start_time:asc or start_time:desc")
            }
            let email = query["invitee_email"].map(String.init)
            let (count, offset) = try pageParameters(query)
            let hosts: (StandInBooking) -> Bool
            if let user {
                guard state.permits(me, on: user) else { throw permissionDenied }
                hosts = { $0.host.uri == user }
            } else if let organization {
                guard me.isAdmin, organization == me.organization else { throw permissionDenied }
                hosts = { state.member(uri: $0.host.uri)?.organization == organization }
            } else {
                guard me.isAdmin else { throw permissionDenied }
                // The seed has no groups.
                throw CalendlyProblem(.notFound, "Resource Not Found", "The group was not found")
            }
            var found = bookings.all { booking in
                guard hosts(booking) else { return false }
                if let minStart, booking.start < minStart { return false }
                if let maxStart, booking.start >= maxStart { return false }
                if let status, (booking.isActive ? "active" : "canceled") != status { return false }
                if let email, booking.invitee.email.lowercased() != email.lowercased() { return false }
                return true
            }
            if sort == "start_time:desc" { found.reverse() }
            return try json(paginate(found.map(StandInShapes.scheduledEvent), count: count, offset: offset, request: request))
        }
        router.get("/scheduled_events/:event/invitees") { request, context -> Response in
            let me = try authenticate(request, state)
            guard let booking = bookings.booking(eventUUID: context.parameters.get("event") ?? ""), state.permits(me, on: booking.host.uri)
            else { throw CalendlyProblem(.notFound, "Resource Not Found", "The event was not found") }
            let query = request.uri.queryParameters
            let status = query["status"].map(String.init), email = query["email"].map(String.init)
            if let status, status != "active", status != "canceled" { throw CalendlyProblem.invalid("status", "must be active or canceled") }
            let sort = query["sort"].map(String.init) ?? "created_at:asc"
            guard sort == "created_at:asc" || sort == "created_at:desc" else {
                throw CalendlyProblem.invalid("sort", "must be created_at:asc or created_at:desc")
            }
            let (count, offset) = try pageParameters(query)
            // One invitee per stand-in event: the sort has nothing to order.
            let invitees = [booking].filter { booking in
                if let status, booking.invitee.status != status { return false }
                if let email, booking.invitee.email.lowercased() != email.lowercased() { return false }
                return true
            }
            return try json(paginate(invitees.map(StandInShapes.invitee), count: count, offset: offset, request: request))
        }
    }

    static func time(_ text: String, _ parameter: String) throws -> Timestamp {
        guard let time = Timestamp(rfc3339: text) else { throw CalendlyProblem.invalid(parameter, "must be an RFC 3339 time") }
        return time
    }
}
