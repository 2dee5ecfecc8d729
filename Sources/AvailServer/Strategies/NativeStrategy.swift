import AvailCore
import AvailStore
import Foundation
import HTTPTypes

/// The expert's own weekly hours: slots from `SlotCalculator`, bookings as
/// `appointment.booked|rescheduled|canceled` events. The caller holds the expert's lock and
/// has let the read models catch up, so what is read here includes every earlier decision.
struct NativeStrategy: AvailabilityStrategy {
    let readModels: any ReadModelQueries
    let commands: Commands

    func slots(for expert: ExpertProfile, eventType: String?, in range: TimeRange) async throws -> [TimeRange] {
        let calculator = try calculator(for: expert)
        let busy = try await busyTimes(expert.id, around: range, calculator.schedule, excluding: nil)
        return calculator.slots(in: range, now: .now(), busy: busy)
    }

    func book(for expert: ExpertProfile, eventType: String?, at start: Timestamp, invitee: Appointment.Invitee) async throws -> Appointment {
        let calculator = try calculator(for: expert)
        try await requireFree(start, calculator, expertID: expert.id, excluding: nil)
        let id = UUID().uuidString.lowercased()
        try await commands.record(.booked(AppointmentBooked(
            appointmentID: id, expertID: expert.id, startTime: start, endTime: end(start, calculator), invitee: invitee, at: .now())))
        return try await projected(id)
    }

    func reschedule(_ appointment: Appointment, of expert: ExpertProfile?, to start: Timestamp) async throws -> Appointment {
        guard let expert else { throw NoIntegrationStrategy.refusal("") }
        let current = try scheduled(appointment)
        let calculator = try calculator(for: expert)
        // Its own slot is free for it: moving by half an hour within it is fine.
        try await requireFree(start, calculator, expertID: expert.id, excluding: current.id)
        let newID = UUID().uuidString.lowercased()
        try await commands.record(.rescheduled(AppointmentRescheduled(
            appointmentID: current.id, newAppointmentID: newID, startTime: start, endTime: end(start, calculator), at: .now())))
        return try await projected(newID)
    }

    func cancel(_ appointment: Appointment, of expert: ExpertProfile?, reason: String?) async throws -> Appointment {
        let current = try scheduled(appointment)
        try await commands.record(.canceled(AppointmentCanceled(appointmentID: current.id, reason: reason, at: .now())))
        return try await projected(current.id)
    }

    // MARK: Steps

    private func calculator(for expert: ExpertProfile) throws -> SlotCalculator {
        guard let schedule = expert.nativeSchedule else { throw NoIntegrationStrategy.refusal(expert.id) }
        return try SlotCalculator(schedule: schedule)
    }

    private func end(_ start: Timestamp, _ calculator: SlotCalculator) -> Timestamp {
        Timestamp(microseconds: start.microseconds + Int64(calculator.schedule.durationMinutes) * 60_000_000)
    }

    private func scheduled(_ appointment: Appointment) throws -> Appointment {
        guard appointment.status == .scheduled else {
            throw BookingRefusal.notScheduled(appointment: appointment.id, status: appointment.status)
        }
        return appointment
    }

    /// Appointments that could touch a slot near `range`, buffers included.
    private func busyTimes(_ expertID: String, around range: TimeRange, _ schedule: NativeSchedule, excluding: String?) async throws
        -> [TimeRange]
    {
        let margin = Int64(schedule.bufferBeforeMinutes + schedule.bufferAfterMinutes + schedule.durationMinutes) * 60_000_000
        return try await readModels.busyTimes(
            expertID: expertID,
            overlapping: TimeRange(
                start: Timestamp(microseconds: range.start.microseconds - margin),
                end: Timestamp(microseconds: range.end.microseconds + margin)),
            excluding: excluding)
    }

    private func requireFree(_ start: Timestamp, _ calculator: SlotCalculator, expertID: String, excluding: String?) async throws {
        let busy = try await busyTimes(expertID, around: TimeRange(start: start, end: start), calculator.schedule, excluding: excluding)
        guard calculator.offers(start, now: .now(), busy: busy) else {
            throw BookingRefusal.slotUnavailable(reason: "\(start) is not a free slot of this expert")
        }
    }

    private func projected(_ id: String) async throws -> Appointment {
        guard let appointment = try await readModels.appointment(id: id) else { throw BookingRefusal.notProjected(appointment: id) }
        return appointment
    }
}
