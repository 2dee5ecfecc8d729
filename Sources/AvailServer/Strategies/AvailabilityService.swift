import AvailCore

/// Picks the strategy: for an expert, by its `integration_type`; for an existing appointment,
/// by its `calendar_type` (a native appointment stays native whatever the expert connects
/// later).
struct AvailabilityService: Sendable {
    let none: NoIntegrationStrategy
    let native: NativeStrategy
    let calendly: CalendlyStrategy

    func strategy(for integration: IntegrationType) -> any AvailabilityStrategy {
        switch integration {
        case .none: none
        case .native: native
        case .calendly: calendly
        }
    }

    func strategy(for appointment: Appointment) -> any AvailabilityStrategy {
        appointment.calendarType == "native" ? native : calendly
    }
}
