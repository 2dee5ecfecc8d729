import AvailCore
import Foundation
import Hummingbird

extension Request {
    /// The body as JSON of `type`, at most `limit` bytes. Every failure is a 400 (or 413)
    /// problem naming what is wrong.
    func decodeJSON<Value: Decodable>(_ type: Value.Type, limit: Int = 65_536) async throws -> Value {
        let buffer = try await collectBody(upTo: limit)
        return try Self.decode(type, from: buffer)
    }

    private func collectBody(upTo limit: Int) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: limit)
        } catch {
            throw Problem(.contentTooLarge, code: .payloadTooLarge, detail: "the body is larger than \(limit) bytes")
        }
    }

    private static func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        let data = Data(buffer.readableBytesView)
        try refuseNUL(in: data)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw Problem.invalidBody(error)
        } catch {
            throw Problem(.badRequest, code: .invalidJSON, detail: "the body is not valid JSON")
        }
    }

    /// SQLite text cannot hold U+0000: a stored NUL would be read back cut short, and the read
    /// models would differ from a rebuild for good. Every command body is decoded here, so one
    /// look at the whole body refuses it in any string, keys and fields availd ignores
    /// included: no field can be forgotten. (A raw NUL byte is no JSON text either.)
    private static func refuseNUL(in data: Data) throws {
        guard JSONText.containsNULByte(data) || JSONText.containsEscapedNUL(data) else { return }
        let field = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])).flatMap { pathOfNUL(in: $0) }
        throw Problem.invalidField(field ?? "body", "must not contain a NUL character (U+0000)")
    }

    /// Where in a decoded JSON value a string (or a key) holds U+0000: `invitee.name`, `rules[0]`,
    /// or `body` for the top level.
    private static func pathOfNUL(in value: Any, at path: String = "") -> String? {
        switch value {
        case let text as String:
            return text.unicodeScalars.contains("\u{0}") ? (path.isEmpty ? "body" : path) : nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = pathOfNUL(in: element, at: path + "[\(index)]") { return found }
            }
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                if key.unicodeScalars.contains("\u{0}") { return path.isEmpty ? "body" : path }
                if let found = pathOfNUL(in: object[key]!, at: path.isEmpty ? key : path + "." + key) { return found }
            }
        default:
            break
        }
        return nil
    }

    /// As `decodeJSON`, but an empty body is `nil`: for requests whose every field is optional.
    func decodeOptionalJSON<Value: Decodable>(_ type: Value.Type, limit: Int = 65_536) async throws -> Value? {
        let buffer = try await collectBody(upTo: limit)
        if buffer.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return nil }
        return try Self.decode(type, from: buffer)
    }
}

/// Text fields people type (names, labels, reasons), checked as openapi.yaml describes them.
/// Lengths count Unicode scalars, as JSON Schema's `maxLength` does.
enum TextField {
    /// A one-line name or label: `text` trimmed, when it is 1 to `maximum` characters, not only
    /// white space, and free of control characters; else a 400 naming `field`.
    static func line(_ text: String, field: String, maximum: Int) throws -> String {
        guard text.unicodeScalars.count <= maximum else { throw Problem.invalidField(field, "must be 1 to \(maximum) characters") }
        guard !text.unicodeScalars.contains(where: isControl) else {
            throw Problem.invalidField(field, "must not contain control characters")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw Problem.invalidField(field, "must be 1 to \(maximum) characters, not only white space") }
        return trimmed
    }

    /// Free text such as a cancellation reason: at most `maximum` characters; line breaks allowed.
    static func text(_ text: String, field: String, maximum: Int) throws -> String {
        guard text.unicodeScalars.count <= maximum else { throw Problem.invalidField(field, "must be at most \(maximum) characters") }
        return text
    }

    /// An email address as availd accepts one: at most 254 characters, one `@`, a dotted domain,
    /// no white space or control characters. Returned trimmed.
    static func email(_ text: String, field: String) throws -> String {
        let email = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard text.unicodeScalars.count <= 254, email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty,
            parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !email.unicodeScalars.contains(where: { isControl($0) || $0.properties.isWhitespace })
        else { throw Problem.invalidField(field, "must be an email address") }
        return email
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F
    }
}

extension Problem {
    /// A body field failed validation.
    static func invalidField(_ field: String, _ detail: String) -> Problem {
        Problem(.badRequest, code: .invalidField, detail: "\(field): \(detail)")
    }

    static func invalidBody(_ error: DecodingError) -> Problem {
        /// `schedule.rules[0].wday`.
        func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            guard !keys.isEmpty else { return "body" }
            return keys.enumerated().map { offset, key in
                if let index = key.intValue { return "[\(index)]" }
                return offset == 0 ? key.stringValue : "." + key.stringValue
            }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return .invalidField(path(context, key), "is required")
        case .valueNotFound(_, let context): return .invalidField(path(context), "must not be null")
        case .typeMismatch(let type, let context):
            return context.codingPath.isEmpty
                ? Problem(.badRequest, code: .invalidJSON, detail: "the body must be a JSON object")
                : .invalidField(path(context), "must be \(Self.describe(type))")
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? Problem(.badRequest, code: .invalidJSON, detail: "the body is not valid JSON")
                : .invalidField(path(context), context.debugDescription)
        @unknown default:
            return Problem(.badRequest, code: .invalidJSON, detail: "the body could not be read")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "a boolean"
        default: "of type \(type)"
        }
    }

    static func projectionLag(_ position: Int64) -> Problem {
        Problem(
            .gatewayTimeout, code: .projectionLag,
            detail: "the read models did not reach log position \(position) in time; retry", headers: [.retryAfter: "1"])
    }
}
