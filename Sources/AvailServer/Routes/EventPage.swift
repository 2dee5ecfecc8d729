/// A page of `GET /events`.
public struct EventPage: Codable, Sendable {
    public var events: [EventItem]
    /// The last position on the page (the `after` asked for when the page is empty).
    public var nextAfter: Int64

    enum CodingKeys: String, CodingKey {
        case events
        case nextAfter = "next_after"
    }
}
