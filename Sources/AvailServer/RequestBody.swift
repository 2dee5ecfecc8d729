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
            throw Problem(.contentTooLarge, code: "payload_too_large", detail: "the body is larger than \(limit) bytes")
        }
    }

    private static func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw Problem.invalidBody(error)
        } catch {
            throw Problem(.badRequest, code: "invalid_json", detail: "the body is not valid JSON")
        }
    }

    /// As `decodeJSON`, but an empty body is `nil`: for requests whose every field is optional.
    func decodeOptionalJSON<Value: Decodable>(_ type: Value.Type, limit: Int = 65_536) async throws -> Value? {
        let buffer = try await collectBody(upTo: limit)
        if buffer.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return nil }
        return try Self.decode(type, from: buffer)
    }
}

extension Problem {
    /// A body field failed validation.
    static func invalidField(_ field: String, _ detail: String) -> Problem {
        Problem(.badRequest, code: "invalid_field", detail: "\(field): \(detail)")
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
                ? Problem(.badRequest, code: "invalid_json", detail: "the body must be a JSON object")
                : .invalidField(path(context), "must be \(Self.describe(type))")
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? Problem(.badRequest, code: "invalid_json", detail: "the body is not valid JSON")
                : .invalidField(path(context), context.debugDescription)
        @unknown default:
            return Problem(.badRequest, code: "invalid_json", detail: "the body could not be read")
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
            .gatewayTimeout, code: "projection_lag",
            detail: "the read models did not reach log position \(position) in time; retry", headers: [.retryAfter: "1"])
    }
}
