import Foundation

/// A webhook delivery Calendly sent: its raw bytes plus the few envelope fields availd reads
/// before storing it. Everything else in the body is the projector's business.
public struct Delivery: Sendable, Equatable {
    /// The exact bytes received; these, not a re-serialisation, are what the log keeps.
    public let body: Data
    /// Calendly's event name (`invitee.created`); unknown names are valid.
    public let event: String
    /// The envelope `created_at`, as sent (not normalised).
    public let createdAt: String?
    /// `payload.uri`: the resource the delivery is about.
    public let payloadURI: String?
    /// `payload.invitee`: present in the bare no-show form.
    public let payloadInvitee: String?
    /// The key that makes redelivery idempotent (Calendly redelivers what it is not sure arrived).
    public let dedupeKey: DedupeKey
    /// The stream this delivery belongs to, `category-id` as in message-db:
    /// `invitee-<uuid>` for everything about one invitee (no-shows included).
    public let stream: StreamName

    /// Reads the envelope of `body`, or says why it is not a usable delivery.
    public init(body: Data) throws(PayloadRejection) {
        // JSON is UTF-8 (RFC 8259); Foundation's decoder would quietly repair bad bytes, and
        // the log serves bodies as text, so refuse them here.
        guard String(validating: body, as: UTF8.self) != nil else {
            throw PayloadRejection(reason: "body is not valid UTF-8")
        }
        // The decoder would also skip a byte order mark, and read UTF-16 or UTF-32 (which it
        // tells by their NUL bytes, valid UTF-8 but never in JSON text); the projector reads
        // UTF-8 only, so these would be stored and never applied.
        guard !body.starts(with: [0xEF, 0xBB, 0xBF]), !JSONText.containsNULByte(body) else {
            throw PayloadRejection(reason: "body is not UTF-8 JSON text")
        }
        let head: EnvelopeHead
        do {
            head = try JSONDecoder().decode(EnvelopeHead.self, from: body)
        } catch let error as DecodingError {
            throw PayloadRejection(error)
        } catch {
            throw PayloadRejection(reason: "body is not valid JSON")
        }
        // The log and the read models keep strings as SQLite text, which cannot hold U+0000:
        // the log's entry could not be read back, and a name would be cut short in the read
        // models (so they would differ from the fold). Calendly never sends one.
        for (field, value) in [("event", head.event), ("payload.uri", head.payload.uri), ("payload.invitee", head.payload.invitee)]
        where value?.unicodeScalars.contains("\u{0}") == true {
            throw PayloadRejection(reason: "`\(field)` contains a NUL character")
        }
        if JSONText.containsEscapedNUL(body) {
            throw PayloadRejection(reason: "a string contains a NUL character (\\u0000)")
        }
        self.body = body
        self.event = head.event
        self.createdAt = head.createdAt
        self.payloadURI = head.payload.uri
        self.payloadInvitee = head.payload.invitee
        self.dedupeKey = DedupeKey(event: event, payloadURI: payloadURI, createdAt: createdAt, body: body)
        self.stream = StreamName.forDelivery(
            event: event, payloadURI: payloadURI, payloadInvitee: payloadInvitee, dedupeKey: dedupeKey)
    }
}

/// The only fields read at ingest. Optional fields that have the wrong type are treated as
/// absent (the dedupe key then falls back to the body's hash) rather than refusing a delivery
/// Calendly may legitimately send in a shape we have not seen.
private struct EnvelopeHead: Decodable {
    let event: String
    let createdAt: String?
    let payload: PayloadHead

    enum CodingKeys: String, CodingKey {
        case event
        case createdAt = "created_at"
        case payload
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.event = try container.decode(String.self, forKey: .event)
        self.createdAt = try? container.decodeIfPresent(String.self, forKey: .createdAt)
        self.payload = try container.decode(PayloadHead.self, forKey: .payload)
    }
}

private struct PayloadHead: Decodable {
    let uri: String?
    let invitee: String?

    enum CodingKeys: String, CodingKey {
        case uri, invitee
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.uri = try? container.decodeIfPresent(String.self, forKey: .uri)
        self.invitee = try? container.decodeIfPresent(String.self, forKey: .invitee)
    }
}
