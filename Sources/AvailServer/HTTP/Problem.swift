import AvailCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem document: every refusal availd makes, mapped to HTTP once, here.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// Short and machine-readable: `invalid_signature`, `payload_too_large`, …
    public var code: ProblemCode
    public var detail: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: ProblemCode, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let data = try JSONEncoder.canonical().encode(document)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The problem document.
    var document: Document {
        Document(
            type: "tag:availd,2026:problem:\(code.rawValue)", title: status.reasonPhrase, status: status.code, detail: detail,
            code: code.rawValue)
    }

    /// The problem document's JSON shape.
    public struct Document: Codable, Sendable, Equatable {
        public var type: String
        public var title: String
        public var status: Int
        public var detail: String
        public var code: String
    }
}

extension Problem {
    static func unauthorized() -> Problem {
        Problem(.unauthorized, code: .unauthorized, detail: "a valid bearer token is required",
                headers: [.wwwAuthenticate: "Bearer"])
    }

    static func notFound(_ detail: String = "no such resource") -> Problem {
        Problem(.notFound, code: .notFound, detail: detail)
    }

    static func invalidParameter(_ name: String, _ detail: String) -> Problem {
        Problem(.badRequest, code: .invalidParameter, detail: "\(name): \(detail)")
    }

    static func unavailable(_ detail: String) -> Problem {
        Problem(.serviceUnavailable, code: .unavailable, detail: detail, headers: [.retryAfter: "5"])
    }
}

/// An error of availd's own parts (a strategy, the Calendly connections) that refuses a
/// request: it says which problem it is here, at the HTTP edge, and nowhere else.
protocol ProblemConvertible: Error {
    var problem: Problem { get }
}

extension Problem {
    /// The problem `error` stands for, if it is a refusal rather than a failure.
    public init?(refusal error: any Error) {
        switch error {
        case let problem as Problem: self = problem
        case let refusal as any ProblemConvertible: self = refusal.problem
        default: return nil
        }
    }
}

extension Response {
    /// A JSON response of bytes already encoded.
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A JSON response of `value`.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder.canonical().encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
