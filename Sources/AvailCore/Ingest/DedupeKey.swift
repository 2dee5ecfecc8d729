import Crypto
import Foundation

/// What makes a redelivered webhook the same delivery.
///
/// Calendly sends no delivery id, so a delivery is `event` + `payload.uri` + envelope
/// `created_at` (the timestamp tells a no-show created, deleted and created again apart).
/// When any of the three is missing the body's own SHA-256 stands in: byte-identical retries
/// still dedupe, and nothing distinct is ever merged by accident.
///
/// The stored form is a fixed-length digest, so the UNIQUE index stays small whatever the
/// URIs' length; the parts themselves remain in the body.
public struct DedupeKey: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init<Body: DataProtocol>(event: String, payloadURI: String?, createdAt: String?, body: Body) {
        if let payloadURI, let createdAt {
            var hasher = SHA256()
            for part in [event, payloadURI, createdAt] {
                hasher.update(data: Array(part.utf8))
                hasher.update(data: [0])
            }
            self.rawValue = "evt:" + Hex.encode(hasher.finalize())
        } else {
            self.rawValue = "body:" + Hex.encode(SHA256.hash(data: body))
        }
    }

    public var description: String { rawValue }
}
