import AvailCore
import Foundation
import Testing

@Suite struct WebhookSignatureTests {
    let body = Data(#"{"event":"invitee.created","payload":{}}"#.utf8)
    let key = "wqN3Y-Ew1tvb0ZwVcFjlP0xB2bC6XzQ6yfK3iG8kd9A"
    let now: Int64 = 1_700_000_000

    /// Python: hmac.new(key.encode(), b"1700000000." + body, sha256).hexdigest(): the key's own
    /// UTF-8 bytes, not its base64url decoding.
    @Test func matchesCalendlysAlgorithm() {
        let header = WebhookSignature.sign(body, key: key, timestamp: now)
        #expect(header.headerValue == "t=1700000000,v1=35c781b07f5cc28152e18bfcacca6f44077fa1e1a63dba1ad2e65a6e8d9be045")
    }

    func verify(_ header: String?, body: Data? = nil, keys: [String]? = nil, now: Int64? = nil) throws(WebhookSignature.Failure) {
        try WebhookSignature.verify(
            header: header, body: body ?? self.body, keys: keys ?? [key], tolerance: 180, now: now ?? self.now)
    }

    @Test func acceptsAValidSignature() throws {
        try verify(WebhookSignature.sign(body, key: key, timestamp: now).headerValue)
    }

    @Test func acceptsEveryConfiguredKey() throws {
        let oldKey = "old-signing-key"
        let header = WebhookSignature.sign(body, key: oldKey, timestamp: now).headerValue
        try verify(header, keys: ["new-signing-key", oldKey])
        #expect(throws: WebhookSignature.Failure.invalid) { try verify(header, keys: ["new-signing-key"]) }
    }

    @Test func acceptsAnyOfSeveralV1Values() throws {
        let good = WebhookSignature.sign(body, key: key, timestamp: now).signatures[0]
        let header = SignatureHeader(timestamp: now, signatures: [[UInt8](repeating: 7, count: 32), good])
        try verify(header.headerValue)
    }

    @Test func verifiesTheExactBytes() {
        let header = WebhookSignature.sign(body, key: key, timestamp: now).headerValue
        let reserialised = Data(#"{"event": "invitee.created", "payload": {}}"#.utf8)
        #expect(throws: WebhookSignature.Failure.invalid) { try verify(header, body: reserialised) }
        #expect(throws: WebhookSignature.Failure.invalid) { try verify(header, body: body + Data("\n".utf8)) }
    }

    @Test func theSignedTimestampIsPartOfTheMessage() {
        var header = WebhookSignature.sign(body, key: key, timestamp: now)
        header.timestamp += 1
        #expect(throws: WebhookSignature.Failure.invalid) { try verify(header.headerValue) }
    }

    @Test(arguments: [-180, 0, 180] as [Int64])
    func acceptsTimestampsWithinTolerance(offset: Int64) throws {
        try verify(WebhookSignature.sign(body, key: key, timestamp: now + offset).headerValue)
    }

    @Test(arguments: [-181, 181, -86_400, 86_400] as [Int64])
    func refusesTimestampsOutsideTolerance(offset: Int64) {
        let header = WebhookSignature.sign(body, key: key, timestamp: now + offset).headerValue
        #expect(throws: WebhookSignature.Failure.stale) { try verify(header) }
    }

    @Test func aForgedOldSignatureIsInvalidNotStale() {
        let header = WebhookSignature.sign(body, key: "not-the-key", timestamp: now - 3600).headerValue
        #expect(throws: WebhookSignature.Failure.invalid) { try verify(header) }
    }

    @Test func missingAndMalformedHeaders() {
        #expect(throws: WebhookSignature.Failure.missing) { try verify(nil) }
        #expect(throws: WebhookSignature.Failure.malformed) { try verify("") }
        #expect(throws: WebhookSignature.Failure.malformed) { try verify("v1=abc") }
    }
}
