import AvailCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem document: every refusal availd makes, mapped to HTTP once, here.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// Short and machine-readable: `invalid_signature`, `payload_too_large`, …
    public var code: String
    public var detail: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let body = Document(
            type: "tag:availd,2026:problem:\(code)",
            title: status.reasonPhrase,
            status: status.code,
            detail: detail,
            code: code
        )
        let data = try JSONEncoder.canonical().encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
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
        Problem(.unauthorized, code: "unauthorized", detail: "a valid bearer token is required",
                headers: [.wwwAuthenticate: "Bearer"])
    }

    static func notFound(_ detail: String = "no such resource") -> Problem {
        Problem(.notFound, code: "not_found", detail: detail)
    }

    static func invalidParameter(_ name: String, _ detail: String) -> Problem {
        Problem(.badRequest, code: "invalid_parameter", detail: "\(name): \(detail)")
    }

    static func unavailable(_ detail: String) -> Problem {
        Problem(.serviceUnavailable, code: "unavailable", detail: detail, headers: [.retryAfter: "5"])
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
