/// The Calendly URIs and paths the client may turn into a request.
///
/// URIs come from Calendly's answers and from webhook deliveries (stored in the read models),
/// and the client calls them on its base URL with the bearer token: so only an https URI on
/// `api.calendly.com`, with a path of a shape the client knows and identifiers of a safe
/// charset (no `..`, no `%`, no query or fragment), becomes a request. Anything else is
/// refused before a byte is sent.
public enum CalendlyURI {
    /// What Calendly's API identifiers begin with, whatever base URL the client calls.
    static let origin = "https://api.calendly.com"

    /// A path segment: a literal, or `id` for an identifier.
    enum Segment: Equatable {
        case literal(String)
        case id
    }

    /// The paths the client calls, by shape.
    static let shapes: [[Segment]] = [
        userShape,
        [.literal("organizations"), .id],
        [.literal("event_types")],
        [.literal("event_types"), .id],
        [.literal("event_type_available_times")],
        [.literal("user_busy_times")],
        [.literal("invitees")],
        [.literal("scheduled_events")],
        scheduledEventShape,
        [.literal("scheduled_events"), .id, .literal("cancellation")],
        [.literal("scheduled_events"), .id, .literal("invitees")],
        inviteeShape,
        [.literal("invitee_no_shows")],
        [.literal("invitee_no_shows"), .id],
        [.literal("webhook_subscriptions")],
        [.literal("webhook_subscriptions"), .id],
    ]

    /// `/users/{uuid}`.
    static let userShape: [Segment] = [.literal("users"), .id]

    /// `/scheduled_events/{uuid}`.
    static let scheduledEventShape: [Segment] = [.literal("scheduled_events"), .id]

    /// `/scheduled_events/{uuid}/invitees/{uuid}`.
    static let inviteeShape: [Segment] = [.literal("scheduled_events"), .id, .literal("invitees"), .id]

    /// Whether `text` is an event type's URI (`https://api.calendly.com/event_types/{uuid}`).
    public static func isEventTypeURI(_ text: String) -> Bool {
        guard let path = try? apiPath(of: text) else { return false }
        return isKnown(path, shapes: [[.literal("event_types"), .id]])
    }

    /// `url`'s path (below `base`) with its identifiers as `{id}`: a label of bounded cardinality.
    public static func endpoint(of url: String, base: String) -> String {
        var path = url.hasPrefix(base) ? String(url.dropFirst(base.count)) : url
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        let literals: Set<Substring> = [
            "users", "me", "organizations", "event_types", "event_type_available_times", "user_busy_times", "invitees",
            "scheduled_events", "cancellation", "invitee_no_shows", "webhook_subscriptions", "oauth", "token", "revoke",
            "introspect",
        ]
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).prefix(6)
        return "/" + segments.map { literals.contains($0) ? String($0) : "{id}" }.joined(separator: "/")
    }

    /// The path to call for `uriOrPath`: Calendly's URI of a known shape (by its path), or
    /// such a path itself.
    static func path(of uriOrPath: String) throws(CalendlyError) -> String {
        let path = uriOrPath.hasPrefix("/") ? uriOrPath : try apiPath(of: uriOrPath)
        guard isKnown(path, shapes: shapes) else { throw refusal(uriOrPath) }
        return path
    }

    /// The path of `uri`, which must be Calendly's URI of one of `shapes` (a bare path is not).
    static func path(of uri: String, shapes: [[Segment]]) throws(CalendlyError) -> String {
        let path = try apiPath(of: uri)
        guard isKnown(path, shapes: shapes) else { throw refusal(uri) }
        return path
    }

    /// An identifier a caller or a delivery puts into a path segment (a scheduled event's UUID).
    static func identifier(_ text: String) throws(CalendlyError) -> String {
        guard isIdentifier(text[...]) else { throw .unexpected("refused identifier \(describe(text)): not a Calendly id") }
        return text
    }

    /// `https://api.calendly.com/…` → `/…`. Compared byte for byte, ASCII only: no user, no
    /// port, no other scheme or host (`https://api.calendly.com.evil.tld/` is not Calendly).
    private static func apiPath(of uri: String) throws(CalendlyError) -> String {
        let prefix = origin + "/"
        guard uri.utf8.count <= 2048, uri.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), uri.utf8.starts(with: prefix.utf8) else {
            throw refusal(uri)
        }
        return String(uri.dropFirst(origin.count))
    }

    private static func isKnown(_ path: String, shapes: [[Segment]]) -> Bool {
        guard path.utf8.count <= 2048 else { return false }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        return shapes.contains { shape in
            shape.count == segments.count && zip(shape, segments).allSatisfy { expected, segment in
                switch expected {
                case .literal(let name): segment == name
                case .id: isIdentifier(segment)
                }
            }
        }
    }

    /// 1 to 100 ASCII letters, digits, `-` or `_`: Calendly's UUIDs and `me`; never `.`, `%`,
    /// `/`, `?` or `#`.
    private static func isIdentifier(_ segment: Substring) -> Bool {
        (1...100).contains(segment.utf8.count) && segment.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F
        }
    }

    private static func refusal(_ uri: String) -> CalendlyError {
        .unexpected("refused URI \(describe(uri)): not an api.calendly.com URI the client knows")
    }

    /// Quoted and cut short: hostile text stays one line.
    private static func describe(_ text: String) -> String {
        "\"" + String(text.unicodeScalars.prefix(200).map { $0.isASCII && $0.value >= 0x20 ? Character($0) : "?" }) + "\""
    }
}
