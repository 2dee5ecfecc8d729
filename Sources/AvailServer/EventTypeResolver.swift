import AvailClient
import AvailCore

/// Finds the Calendly event type behind a public event link. Calendly has no look-up by link:
/// list the token user's event types, then its organization's, and match `scheduling_url`.
struct EventTypeResolver: Sendable {
    let client: CalendlyClient

    struct Resolved: Sendable {
        var eventType: CalendlyEventType
        var userURI: String
    }

    /// The event type behind `link`; nil when there is none. An event type availd cannot
    /// offer slots of (a duration outside `CalendlyConfig.durations`) is refused.
    func resolve(_ link: EventLink) async throws(CalendlyError) -> Resolved? {
        guard let resolved = try await find(link) else { return nil }
        let duration = resolved.eventType.duration
        guard CalendlyConfig.durations.contains(duration) else {
            throw .unexpected(
                "the event type \(resolved.eventType.uri) lasts \(duration) minutes; availd accepts "
                    + "\(CalendlyConfig.durations.lowerBound) to \(CalendlyConfig.durations.upperBound)")
        }
        return resolved
    }

    private func find(_ link: EventLink) async throws(CalendlyError) -> Resolved? {
        let me = try await client.me()
        func matching(_ types: [CalendlyEventType]) -> CalendlyEventType? {
            types.first { (try? EventLink(parsing: $0.schedulingURL)) == link }
        }
        if let own = matching(try await client.eventTypes(user: me.uri)) {
            return Resolved(eventType: own, userURI: own.profile?.owner ?? me.uri)
        }
        guard let organization = me.currentOrganization,
            let shared = matching(try await client.eventTypes(organization: organization))
        else { return nil }
        return Resolved(eventType: shared, userURI: shared.profile?.owner ?? me.uri)
    }
}
