import AvailClient

/// Where the webhooks about a booking go: to the one `/_sim/webhooks` target
/// (`WebhookDispatcher`) and to every subscription that covers it (`StandInWebhooks`, with the
/// `/_sim/webhooks/fail` and `/drop` switches). Bookings, cancellations and reschedules all
/// send through here.
struct StandInDeliveries: Sendable {
    let dispatcher: WebhookDispatcher
    let webhooks: StandInWebhooks
    let state: StandInState

    /// Sends `event` about `booking`; to the `/_sim/webhooks` target as created by `user`.
    func deliver(_ event: String, _ booking: StandInBooking, by user: CalendlyUser) async throws {
        await dispatcher.deliver(try CalendlyStandIn.envelope(event, booking, by: user))
        await webhooks.deliver(event, booking, ownerOrganization: state.member(uri: booking.host.uri)?.organization)
    }
}
