import AvailCore
import Crypto
import Foundation
import Logging

/// A log handler that never lets a credential or an invitee's email through: configured
/// secrets (signing keys, tokens) and anything shaped like an expert token or a bearer
/// credential become `[redacted]`; an email address becomes `email:` and the first 8 bytes of
/// its SHA-256, so lines about one person can still be correlated.
///
/// It wraps the real handler, so every line of every module passes through it, including
/// errors whose descriptions quote what a client sent.
public struct RedactingLogHandler: LogHandler {
    private var inner: any LogHandler
    private let redactor: Redactor
    /// What was set on the logger (a request's id, …), kept as it was given and redacted only
    /// when a line is written: most are set on every request and never printed, and redacting
    /// them as they were set cost ingest 4 % of its CPU.
    public var metadata: Logger.Metadata = [:]

    public init(_ inner: any LogHandler, redactor: Redactor) {
        self.inner = inner
        self.redactor = redactor
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: Logging.LogEvent) {
        var event = event
        event.message = "\(redactor.redact(event.message.description))"
        // The line's own metadata wins over the logger's, as every handler merges them.
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        event.metadata = merged.isEmpty ? nil : merged.mapValues(redactor.redact)
        inner.log(event: event)
    }
}

/// What `RedactingLogHandler` applies to each message and metadata value.
public struct Redactor: Sendable {
    /// Exact secrets to hide wherever they appear (shorter than 8 characters are ignored:
    /// hiding `a` would garble every line).
    public let secrets: [String]

    public init(secrets: [String] = []) {
        self.secrets = secrets.filter { $0.utf8.count >= 8 }.sorted { $0.utf8.count > $1.utf8.count }
    }

    public func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(redact(text))
        case .stringConvertible(let convertible): .string(redact(convertible.description))
        case .array(let values): .array(values.map(redact))
        case .dictionary(let values): .dictionary(values.mapValues(redact))
        }
    }

    public func redact(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: "[redacted]")
        }
        text = Self.redactTokens(text, after: ExpertToken.prefix)
        text = Self.redactTokens(text, after: "Bearer ")
        text = Self.redactTokens(text, after: "bearer ")
        return Self.redactEmails(text)
    }

    /// Hides the run of token characters after each `marker`.
    static func redactTokens(_ text: String, after marker: String) -> String {
        guard text.contains(marker) else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: marker) {
            out += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let end = rest.firstIndex { !isTokenCharacter($0) } ?? rest.endIndex
            if end != rest.startIndex { out += "[redacted]" }
            rest = rest[end...]
        }
        return out + rest
    }

    /// Replaces every `local@domain.tld` with `email:<16 hex>`.
    static func redactEmails(_ text: String) -> String {
        guard text.contains("@") else { return text }
        let characters = Array(text)
        var out = ""
        var copied = 0
        var index = 0
        while index < characters.count {
            guard characters[index] == "@" else { index += 1; continue }
            var start = index
            while start > copied, isLocalPartCharacter(characters[start - 1]) { start -= 1 }
            var end = index + 1
            while end < characters.count, isDomainCharacter(characters[end]) { end += 1 }
            // Trailing dots end a sentence, not a domain.
            while end > index + 1, characters[end - 1] == "." { end -= 1 }
            let domain = characters[(index + 1)..<end]
            guard start < index, domain.contains("."), domain.first != "." else { index += 1; continue }
            let email = String(characters[start..<end]).lowercased()
            out += String(characters[copied..<start])
            out += "email:" + Hex.encode(SHA256.hash(data: Array(email.utf8)).prefix(8))
            copied = end
            index = end
        }
        return out + String(characters[copied...])
    }

    private static func isTokenCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "-_.~+/=".contains(character))
    }

    private static func isLocalPartCharacter(_ character: Character) -> Bool {
        // RFC 5322 allows `/`, `=` and `?` too, but in logs they end paths and queries.
        character.isASCII && (character.isLetter || character.isNumber || ".!#$%&'*+^_`{|}~-".contains(character))
            || !character.isASCII && character.isLetter
    }

    private static func isDomainCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "-")
            || !character.isASCII && character.isLetter
    }
}
