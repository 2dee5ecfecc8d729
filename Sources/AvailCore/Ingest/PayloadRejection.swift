/// Why a signed body cannot be stored in the log; it goes to the dead letters instead.
public struct PayloadRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public static let code = "invalid_payload"
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    init(_ error: DecodingError) {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            self.init(reason: "body is not valid JSON")
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            self.init(reason: "body is not a JSON object")
        case .keyNotFound(let key, _):
            self.init(reason: "`\(key.stringValue)` is missing")
        case .valueNotFound(_, let context):
            self.init(reason: "`\(path(context))` is null")
        case .typeMismatch(_, let context):
            let field = path(context)
            self.init(reason: "`\(field)` is not \(field == "payload" ? "an object" : "a string")")
        case .dataCorrupted(let context):
            self.init(reason: "`\(path(context))` is malformed")
        @unknown default:
            self.init(reason: "body is not a usable delivery")
        }
    }

    public var description: String { reason }
}
