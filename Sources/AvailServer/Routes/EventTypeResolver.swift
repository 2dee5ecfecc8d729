import AvailClient
import AvailCore

/// Finds the Calendly event type behind a public event link, and who owns it. Calendly has no
/// look-up by link: list the token user's event types, then its organization's, and match
/// `scheduling_url`; the owner (`profile.owner`) is then read as Calendly reports it.
struct EventTypeResolver: Sendable {
    let client: CalendlyClient

    struct Resolved: Sendable {
        var eventType: CalendlyEventType
        /// The event type's owner as Calendly reports it; nil when Calendly names none.
        var owner: CalendlyUser?
    }

    /// The event type behind `link`; nil when there is none. An event type availd cannot
    /// offer slots of (a duration outside `CalendlyConfig.durations`) is refused.
    func resolve(_ link: EventLink) async throws(CalendlyError) -> Resolved? {
        guard let resolved = try await find({ (try? EventLink(parsing: $0.schedulingURL)) == link }) else { return nil }
        try Self.checkDuration(resolved.eventType)
        return resolved
    }

    /// The event type whose URI is `uri`, among the token user's and its organization's.
    func resolve(uri: String) async throws(CalendlyError) -> Resolved? {
        guard let resolved = try await find({ $0.uri == uri }) else { return nil }
        try Self.checkDuration(resolved.eventType)
        return resolved
    }

    static func checkDuration(_ eventType: CalendlyEventType) throws(CalendlyError) {
        guard CalendlyConfig.durations.contains(eventType.duration) else {
            throw .unexpected(
                "the event type \(eventType.uri) lasts \(eventType.duration) minutes; availd accepts "
                    + "\(CalendlyConfig.durations.lowerBound) to \(CalendlyConfig.durations.upperBound)")
        }
    }

    private func find(_ isWanted: (CalendlyEventType) -> Bool) async throws(CalendlyError) -> Resolved? {
        let me = try await client.me()
        func matching(_ types: [CalendlyEventType]) -> CalendlyEventType? {
            types.first(where: isWanted)
        }
        var found = matching(try await client.eventTypes(user: me.uri))
        if found == nil, let organization = me.currentOrganization {
            found = matching(try await client.eventTypes(organization: organization))
        }
        guard let eventType = found else { return nil }
        guard let ownerURI = eventType.profile?.owner else { return Resolved(eventType: eventType, owner: nil) }
        if ownerURI == me.uri { return Resolved(eventType: eventType, owner: me) }
        do {
            return Resolved(eventType: eventType, owner: try await client.user(uri: ownerURI))
        } catch .notFound, .unauthorized {
            // The token may not read that user: then nobody is proven to own it.
            return Resolved(eventType: eventType, owner: nil)
        }
    }
}
