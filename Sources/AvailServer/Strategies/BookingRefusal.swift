import AvailCore

/// Why a strategy will not answer availability, book, reschedule or cancel, in the strategy's
/// terms; `Problem+Refusals.swift` says which problem each is.
enum BookingRefusal: Error, Equatable {
    /// The expert has no integration that can do this.
    case noIntegration(expert: String)
    /// The appointment's expert is not connected to Calendly, so Calendly cannot move it.
    case notOnCalendly
    /// The start is not a free slot; `reason` says why, in the strategy's (or Calendly's) words.
    case slotUnavailable(reason: String)
    /// The appointment is already canceled or rescheduled.
    case notScheduled(appointment: String, status: AppointmentStatus)
    /// Calendly refused to cancel: the event is no longer scheduled there.
    case canceledAtCalendly(reason: String)
    /// `event_type` is not one the expert offers.
    case eventTypeNotOffered(expert: String)
    /// The expert's Calendly link was stored without being resolved to an event type.
    case eventTypeUnresolved(expert: String)
    /// What was recorded is not in the read models (they were rebuilt meanwhile, or it was
    /// parked).
    case notProjected(appointment: String)
}
