import Crypto
import Foundation

/// An expert's bearer token: `availd_<id>_<secret>`.
///
/// The id (26 base32 characters, 130 bits) names the token in listings and revocations and is
/// not secret; the secret (32 random bytes, base64url) is shown once, when the token is issued,
/// and kept only as its SHA-256. A fast hash is right here: the secret is 256 random bits, not
/// a password, so there is nothing for a slow hash to protect against guessing.
public struct ExpertToken: Sendable, Equatable {
    public static let prefix = "availd_"
    static let idLength = 26
    static let secretLength = 43

    /// `tok_` and 26 lowercase base32 characters.
    public var id: String
    /// The part only the holder knows.
    public var secret: String

    /// A new token from the system's CSPRNG.
    public static func generate() -> ExpertToken {
        var generator = SystemRandomNumberGenerator()
        let idBytes = (0..<17).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let id = String(Base32.encode(idBytes).prefix(idLength))
        return ExpertToken(id: "tok_" + id, secret: Secret.generate(byteCount: 32))
    }

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses what a client sent; `nil` for anything not shaped like a token (no lookup needed).
    public init?(bearer text: String) {
        let utf8 = Array(text.utf8)
        let prefix = Array(Self.prefix.utf8)
        guard utf8.count == prefix.count + Self.idLength + 1 + Self.secretLength,
              utf8.starts(with: prefix)
        else { return nil }
        let idPart = utf8[prefix.count..<(prefix.count + Self.idLength)]
        let separator = utf8[prefix.count + Self.idLength]
        let secretPart = utf8[(prefix.count + Self.idLength + 1)...]
        guard separator == UInt8(ascii: "_"),
              idPart.allSatisfy(Base32.isDigit),
              secretPart.allSatisfy(Self.isBase64URL)
        else { return nil }
        self.id = "tok_" + String(decoding: idPart, as: UTF8.self)
        self.secret = String(decoding: secretPart, as: UTF8.self)
    }

    /// What the holder sends as `Authorization: Bearer …`.
    public var bearer: String {
        Self.prefix + id.dropFirst(4) + "_" + secret
    }

    /// What is stored: SHA-256 of the secret.
    public var secretHash: [UInt8] {
        Self.hash(secret: secret)
    }

    public static func hash(secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Whether `secret` hashes to `storedHash`, comparing in time independent of where they differ.
    public static func matches(secret: String, storedHash: [UInt8]) -> Bool {
        let candidate = hash(secret: secret)
        guard candidate.count == storedHash.count else { return false }
        var difference: UInt8 = 0
        for index in candidate.indices { difference |= candidate[index] ^ storedHash[index] }
        return difference == 0
    }

    /// A label as stored: trimmed, 1 to 100 characters, no control characters; the error
    /// says what is wrong.
    public static func label(_ text: String) throws(InvalidLabel) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // Unicode scalars, untrimmed: what JSON Schema's maxLength in openapi.yaml counts.
        guard !trimmed.isEmpty, text.unicodeScalars.count <= 100 else { throw InvalidLabel(reason: "must be 1 to 100 characters") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw InvalidLabel(reason: "must not contain control characters")
        }
        return trimmed
    }

    public struct InvalidLabel: Error, Sendable {
        public var reason: String
    }

    /// Whether `text` has the shape of a token id (`tok_` and 26 base32 characters).
    public static func isValidID(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        return utf8.count == 4 + idLength && text.hasPrefix("tok_") && utf8.dropFirst(4).allSatisfy(Base32.isDigit)
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}

/// RFC 4648 base32 in lowercase, unpadded: ids that read well and survive any URL.
enum Base32 {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 0x1f])
                bits -= 5
            }
            buffer &= (1 << bits) - 1
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 0x1f]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "2")...UInt8(ascii: "7")).contains(byte)
    }
}
