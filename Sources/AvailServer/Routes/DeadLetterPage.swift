import AvailCore
import AvailStore
import Foundation

/// One dead letter as `GET /dead-letters` shows it.
public struct DeadLetterItem: Codable, Sendable {
    public var id: Int64
    public var receivedAt: String
    public var code: String
    public var reason: String
    /// The raw bytes as text (invalid UTF-8 replaced); `body_base64` is exact.
    public var body: String
    public var bodyBase64: String

    enum CodingKeys: String, CodingKey {
        case id, code, reason, body
        case receivedAt = "received_at"
        case bodyBase64 = "body_base64"
    }

    init(_ letter: DeadLetter) {
        self.id = letter.id
        self.receivedAt = letter.receivedAt.description
        self.code = letter.code
        self.reason = letter.reason
        self.body = String(decoding: letter.body, as: UTF8.self)
        self.bodyBase64 = letter.body.base64EncodedString()
    }
}

/// A page of `GET /dead-letters`.
public struct DeadLetterPage: Codable, Sendable {
    public var deadLetters: [DeadLetterItem]
    public var nextAfter: Int64

    enum CodingKeys: String, CodingKey {
        case deadLetters = "dead_letters"
        case nextAfter = "next_after"
    }
}
