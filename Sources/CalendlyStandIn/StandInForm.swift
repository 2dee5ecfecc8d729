import Foundation

/// `application/x-www-form-urlencoded` fields, a request body's or a query string's: `+` is a
/// space, then percent-decoding. Hummingbird's `URLEncodedFormDecoder` reads `a[b]` as nesting
/// and refuses repeated keys outright; OAuth needs flat fields, in order, and to tell a repeated
/// one (RFC 6749 §3.1: "MUST NOT be included more than once").
struct StandInForm: Sendable {
    /// Every field in order, empty values included.
    private(set) var fields: [(name: String, value: String)] = []

    /// Nil when a name or value is not valid percent-encoded UTF-8.
    init?(_ encoded: String) {
        for pair in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.component(parts[0]), let value = Self.component(parts.count > 1 ? parts[1] : "") else { return nil }
            fields.append((name, value))
        }
    }

    /// The field's value; nil when it is missing or empty ("parameters sent without a value
    /// MUST be treated as if they were omitted", RFC 6749 §3.1).
    subscript(_ name: String) -> String? {
        fields.first { $0.name == name && !$0.value.isEmpty }?.value
    }

    /// The names given more than once.
    var repeated: [String] {
        var seen: Set<String> = [], repeated: [String] = []
        for field in fields where !seen.insert(field.name).inserted && !repeated.contains(field.name) { repeated.append(field.name) }
        return repeated
    }

    /// One name or value decoded; nil when it is not valid percent-encoded UTF-8.
    static func component(_ text: some StringProtocol) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// Percent-encodes all but RFC 3986's unreserved characters: for a query value.
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `base` with `parameters` added to its query (after `&` if it has one already).
    static func url(_ base: String, adding parameters: [(String, String)]) -> String {
        let query = parameters.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        let separator = !base.contains("?") ? "?" : (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&")
        return base + separator + query
    }
}
