import Crypto

/// A calendar feed's secret, as it appears in the feed's URL: `<id>_<secret>`.
///
/// The same design as `ExpertToken`: the id (`cal_` and 26 base32 characters) names the feed in
/// listings and revocations and is not secret; the secret (32 random bytes, base64url) is shown
/// once, in the URL handed out at creation, and kept only as its SHA-256. Calendar apps cannot
/// send a bearer header, so the URL itself is the credential.
public struct CalendarFeedToken: Sendable, Equatable {
    static let idLength = 26
    static let secretLength = 43
    /// Characters in the URL form: 26, `_`, 43.
    public static let urlLength = idLength + 1 + secretLength

    /// `cal_` and 26 lowercase base32 characters.
    public var id: String
    /// The part only the holder of the URL knows.
    public var secret: String

    /// A new token from the system's CSPRNG.
    public static func generate() -> CalendarFeedToken {
        var generator = SystemRandomNumberGenerator()
        let idBytes = (0..<17).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return CalendarFeedToken(id: "cal_" + String(Base32.encode(idBytes).prefix(idLength)), secret: Secret.generate(byteCount: 32))
    }

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses the URL's path segment (without `.ics`); `nil` for anything not shaped like a
    /// feed token, so no lookup is needed to refuse it.
    public init?(urlForm text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == Self.urlLength, utf8[Self.idLength] == UInt8(ascii: "_"),
              utf8[..<Self.idLength].allSatisfy(Base32.isDigit),
              utf8[(Self.idLength + 1)...].allSatisfy(Secret.isBase64URL)
        else { return nil }
        self.id = "cal_" + String(decoding: utf8[..<Self.idLength], as: UTF8.self)
        self.secret = String(decoding: utf8[(Self.idLength + 1)...], as: UTF8.self)
    }

    /// The path segment of the feed's URL, before `.ics`.
    public var urlForm: String {
        String(id.dropFirst(4)) + "_" + secret
    }

    /// What is stored: SHA-256 of the secret.
    public var secretHash: [UInt8] {
        ExpertToken.hash(secret: secret)
    }

    /// Whether `secret` hashes to `storedHash`, in time independent of where they differ.
    public static func matches(secret: String, storedHash: [UInt8]) -> Bool {
        ExpertToken.matches(secret: secret, storedHash: storedHash)
    }

    /// Whether `text` has the shape of a feed id (`cal_` and 26 base32 characters).
    public static func isValidID(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        return utf8.count == 4 + idLength && text.hasPrefix("cal_") && utf8.dropFirst(4).allSatisfy(Base32.isDigit)
    }
}
