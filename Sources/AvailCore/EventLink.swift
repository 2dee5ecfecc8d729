import Foundation

/// A Calendly public event link, `https://calendly.com/<user-slug>/<event-slug>`.
public struct EventLink: Sendable, Equatable, CustomStringConvertible {
    public let user: String
    public let event: String

    /// Accepts the link as people paste it (`www.`, a trailing `/`, a query such as
    /// `?month=2026-12`) and keeps its canonical form. Throws a reason a person can act on.
    public init(parsing text: String) throws(EventLinkError) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard rest.count <= 2048 else { throw .init("is longer than 2048 characters") }
        guard rest.lowercased().hasPrefix("https://") else { throw .init("must start with https://calendly.com/") }
        rest = rest.dropFirst("https://".count)
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        let host = parts.first.map { $0.lowercased() } ?? ""
        guard host == "calendly.com" || host == "www.calendly.com" else {
            throw .init("must be a calendly.com link, like https://calendly.com/your-name/30min")
        }
        var path = parts.dropFirst()
        if path.last == "" { path = path.dropLast() }
        guard path.count == 2 else {
            throw .init("must name a user and an event, like https://calendly.com/your-name/30min")
        }
        for slug in path where slug.isEmpty || slug.count > 200 || !slug.allSatisfy(Self.isSlugCharacter) {
            throw .init("'\(slug)' is not a valid Calendly slug (letters, digits, '-' and '_')")
        }
        self.user = String(path[path.startIndex])
        self.event = String(path[path.index(after: path.startIndex)])
    }

    public var description: String { "https://calendly.com/\(user)/\(event)" }

    private static func isSlugCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "-" || character == "_")
    }
}

public struct EventLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
