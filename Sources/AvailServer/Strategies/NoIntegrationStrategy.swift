import AvailCore
import HTTPTypes

/// An expert without integration: no slots, no bookings.
struct NoIntegrationStrategy: AvailabilityStrategy {
    func slots(for expert: ExpertProfile, eventType: String?, in range: TimeRange) async throws -> [TimeRange] { [] }

    func book(for expert: ExpertProfile, eventType: String?, at start: Timestamp, invitee: Appointment.Invitee) async throws -> Appointment {
        throw Self.refusal(expert.id)
    }

    func reschedule(_ appointment: Appointment, of expert: ExpertProfile?, to start: Timestamp) async throws -> Appointment {
        throw Self.refusal(expert?.id ?? "")
    }

    func cancel(_ appointment: Appointment, of expert: ExpertProfile?, reason: String?) async throws -> Appointment {
        throw Self.refusal(expert?.id ?? "")
    }

    static func refusal(_ id: String) -> BookingRefusal {
        .noIntegration(expert: id)
    }
}
