/// A credential handed out once and kept only as the SHA-256 of its secret, under an id that
/// names it in listings and revocations: an expert token, a calendar feed's URL.
public protocol HashedSecret: Sendable {
    /// A new one from the system's CSPRNG.
    static func generate() -> Self
    /// Names it; not secret.
    var id: String { get }
    /// The part only the holder knows.
    var secret: String { get }
    /// What is stored: SHA-256 of the secret.
    var secretHash: [UInt8] { get }
    /// Whether `secret` hashes to `storedHash`, in time independent of where they differ.
    static func matches(secret: String, storedHash: [UInt8]) -> Bool
}

extension ExpertToken: HashedSecret {}
extension CalendarFeedToken: HashedSecret {}
