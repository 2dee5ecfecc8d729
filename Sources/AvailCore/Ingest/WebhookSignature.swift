import Crypto
import Foundation

/// Calendly's webhook signature: `v1` is the HMAC-SHA256 of `"<t>." + body`, keyed with the
/// signing key's own UTF-8 bytes (not base64-decoded).
public enum WebhookSignature {
    /// Why a delivery's signature was refused. The raw values are the problem `code`s.
    public enum Failure: String, Error, Sendable {
        case missing = "missing_signature"
        case malformed = "malformed_signature"
        case invalid = "invalid_signature"
        case stale = "stale_signature"
    }

    /// Signs `body` as Calendly would, for the replayer, the simulator and tests.
    public static func sign<Body: DataProtocol>(_ body: Body, key: String, timestamp: Int64) -> SignatureHeader {
        SignatureHeader(timestamp: timestamp, signatures: [digest(body, key: key, timestamp: timestamp)])
    }

    static func digest<Body: DataProtocol>(_ body: Body, key: String, timestamp: Int64) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Array(key.utf8)))
        hmac.update(data: Array("\(timestamp).".utf8))
        hmac.update(data: body)
        return Array(hmac.finalize())
    }

    /// Compares in time that depends only on the lengths (a digest's is public: 32).
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    /// Verifies `header` over the exact `body` bytes against every key (rotation), then checks
    /// `t` within ±`tolerance` seconds of `now`.
    ///
    /// The signature is checked before the clock, so a forger learns nothing about timing: an
    /// unauthenticated request is always `invalid`, only a genuine but old one is `stale`.
    public static func verify<Body: DataProtocol>(
        header: String?,
        body: Body,
        keys: [String],
        tolerance: Int64,
        now: Int64
    ) throws(Failure) {
        guard let header else { throw .missing }
        let parsed: SignatureHeader
        do {
            parsed = try SignatureHeader(parsing: header)
        } catch {
            throw .malformed
        }
        var matched = false
        for key in keys {
            let expected = digest(body, key: key, timestamp: parsed.timestamp)
            for candidate in parsed.signatures where constantTimeEquals(candidate, expected) {
                matched = true
            }
        }
        guard matched else { throw .invalid }
        guard abs(now - parsed.timestamp) <= tolerance else { throw .stale }
    }
}
