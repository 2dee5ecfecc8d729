/// A message-db stream name, `category-id`: the unit the per-stream version counts in.
public struct StreamName: Hashable, Sendable, CustomStringConvertible {
    public let category: String
    public let id: String

    public init(category: String, id: String) {
        self.category = category
        self.id = id
    }

    /// Parses `category-id`, splitting at the first `-`.
    ///
    /// By Unicode scalars, not Characters: an id that begins with a combining mark makes the
    /// `-` before it part of one Character, which would leave the name unreadable.
    public init?(_ text: String) {
        let scalars = text.unicodeScalars
        guard let dash = scalars.firstIndex(of: "-"), dash != scalars.startIndex else { return nil }
        self.init(category: String(scalars[..<dash]), id: String(scalars[scalars.index(after: dash)...]))
    }

    public var description: String { "\(category)-\(id)" }

    /// Byte for byte, as the log's `UNIQUE (stream, stream_version)` compares names: two
    /// spellings of one id (é in NFC and in NFD) are two streams, here as in SQLite.
    public static func == (lhs: StreamName, rhs: StreamName) -> Bool {
        lhs.category.utf8.elementsEqual(rhs.category.utf8) && lhs.id.utf8.elementsEqual(rhs.id.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(Array(category.utf8))
        hasher.combine(Array(id.utf8))
    }

    /// `invitee-<uuid>` of an invitee URI (`…/scheduled_events/<e>/invitees/<uuid>`).
    public init?(inviteeURI: String) {
        guard let id = Self.inviteeSegment(inviteeURI) else { return nil }
        self.init(category: "invitee", id: id)
    }

    /// The stream of a Calendly delivery.
    ///
    /// Everything about one invitee (created, canceled, no-shows in either form) shares the
    /// stream `invitee-<invitee uuid>`; other resources use the event name's prefix and the
    /// last segment of `payload.uri`. A payload without a URI gets a stream of its own, keyed
    /// by the dedupe key, so it never collides with anything.
    static func forDelivery(event: String, payloadURI: String?, payloadInvitee: String?, dedupeKey: DedupeKey) -> StreamName {
        if let inviteeID = payloadInvitee.flatMap(inviteeSegment) ?? payloadURI.flatMap(inviteeSegment) {
            return StreamName(category: "invitee", id: inviteeID)
        }
        let prefix = event.split(separator: ".").first.map(String.init) ?? "calendly"
        let category = prefix.isEmpty ? "calendly" : prefix.replacingDashes()
        if let id = payloadURI.flatMap(lastSegment) {
            return StreamName(category: category, id: id)
        }
        return StreamName(category: category, id: String(dedupeKey.rawValue.suffix(32)))
    }

    /// The invitee UUID of `…/scheduled_events/<e>/invitees/<i>`.
    private static func inviteeSegment(_ uri: String) -> String? {
        let parts = uri.split(separator: "/")
        guard parts.count >= 2, parts[parts.count - 2] == "invitees" else { return nil }
        return String(parts[parts.count - 1])
    }

    private static func lastSegment(_ uri: String) -> String? {
        uri.split(separator: "/").last.map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension String {
    /// Categories may not contain `-`, which separates them from the id (a scalar, so also
    /// none combined into a Character with a mark).
    fileprivate func replacingDashes() -> String {
        String(unicodeScalars.map { Character($0 == "-" ? "_" : $0) })
    }
}
