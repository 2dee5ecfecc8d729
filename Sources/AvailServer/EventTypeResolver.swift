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

    func resolve(_ link: EventLink) async throws(CalendlyError) -> Resolved? {
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
