/// Decides which expert an appointment belongs to (CONTRACT.md, "Experts and their integration").
///
/// In order: the expert whose connected `event_type_uri` is the appointment's event type; else
/// the expert whose email is among the event's hosts; else the expert that connected that event
/// type before (so a disconnect leaves appointments where they were). Ties go to the least id.
/// The answer depends only on the experts as they stand and the appointment's own facts, so
/// folding in any order assigns alike, and an appointment that matched nobody is assigned as
/// soon as a matching expert connects or changes email.
public struct ExpertDirectory: Sendable {
    private var byEventType: [String: String] = [:]
    private var byEmail: [String: String] = [:]
    private var byPastEventType: [String: String] = [:]

    public init(_ experts: some Sequence<ExpertProfile>) {
        func claim(_ table: inout [String: String], _ key: String, _ id: String) {
            if let current = table[key], current <= id { return }
            table[key] = id
        }
        for expert in experts {
            if expert.integrationType == .calendly, let uri = expert.calendlyConfig?.eventTypeURI {
                claim(&byEventType, uri, expert.id)
            }
            claim(&byEmail, EmailAddress.normalize(expert.email), expert.id)
            for uri in expert.pastEventTypeURIs { claim(&byPastEventType, uri, expert.id) }
        }
    }

    public func expert(eventTypeURI: String?, hostEmails: [String]) -> String? {
        if let uri = eventTypeURI, let id = byEventType[uri] { return id }
        if let id = hostEmails.compactMap({ byEmail[$0] }).min() { return id }
        if let uri = eventTypeURI, let id = byPastEventType[uri] { return id }
        return nil
    }

    public func expert(for snapshot: InviteeSnapshot) -> String? {
        expert(eventTypeURI: snapshot.eventTypeURI, hostEmails: snapshot.hostEmails)
    }
}
