/// Decides which expert an appointment belongs to (the README, "Access":
/// whose event type).
///
/// In order: the expert whose connected event type is the appointment's; else the expert whose
/// connected Calendly user hosts it (`event_memberships[].user`); else the expert a host email
/// vouches for, when the admin set that email or Calendly reported it for the expert's
/// connected user (never an email an expert typed); else the expert that connected that event
/// type before (so a disconnect leaves appointments where they were). Ties go to the least id.
/// The answer depends only on the experts as they stand and the appointment's own facts, so
/// folding in any order assigns alike, and an appointment that matched nobody is assigned as
/// soon as a matching expert connects.
public struct ExpertDirectory: Sendable {
    private var byEventType: [String: String] = [:]
    private var byHostUser: [String: String] = [:]
    private var byHostEmail: [String: String] = [:]
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
            for user in expert.trustedHostUsers { claim(&byHostUser, user, expert.id) }
            for email in expert.trustedHostEmails { claim(&byHostEmail, email, expert.id) }
            for uri in expert.pastEventTypeURIs { claim(&byPastEventType, uri, expert.id) }
        }
    }

    /// `hostKeys`: the hosts' user URIs and emails, as `InviteeSnapshot.hostKeys` lists them.
    public func expert(eventTypeURI: String?, hostKeys: [String]) -> String? {
        if let uri = eventTypeURI, let id = byEventType[uri] { return id }
        if let id = hostKeys.compactMap({ byHostUser[$0] }).min() { return id }
        if let id = hostKeys.compactMap({ byHostEmail[$0] }).min() { return id }
        if let uri = eventTypeURI, let id = byPastEventType[uri] { return id }
        return nil
    }

    public func expert(for snapshot: InviteeSnapshot) -> String? {
        expert(eventTypeURI: snapshot.eventTypeURI, hostKeys: snapshot.hostKeys)
    }
}
