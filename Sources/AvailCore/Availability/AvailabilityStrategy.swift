/// How an expert's availability is answered and its appointments are changed: one
/// implementation per integration (`none`, `native`, `calendly`), chosen by an
/// `AvailabilityService` from the expert's `integration_type` (or, for an existing
/// appointment, from its `calendar_type`).
///
/// Every change a strategy makes is recorded as events in the log before it answers, so the
/// read models stay a fold of the log and a rebuild reproduces them.
public protocol AvailabilityStrategy: Sendable {
    /// Free slots of `expert` starting in `range`, of `eventType` (a Calendly event type the
    /// expert offers; nil: the default, or the only kind there is).
    func slots(for expert: ExpertProfile, eventType: String?, in range: TimeRange) async throws -> [TimeRange]
    /// Books `start` of `eventType` for `invitee`; the new appointment as projected.
    func book(for expert: ExpertProfile, eventType: String?, at start: Timestamp, invitee: Appointment.Invitee) async throws -> Appointment
    /// Moves `appointment` to `start`: the new appointment, linked to the old.
    func reschedule(_ appointment: Appointment, of expert: ExpertProfile?, to start: Timestamp) async throws -> Appointment
    /// Cancels `appointment`; the appointment as projected.
    func cancel(_ appointment: Appointment, of expert: ExpertProfile?, reason: String?) async throws -> Appointment
}
