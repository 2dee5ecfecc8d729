import AsyncHTTPClient
import AvailCore
import Foundation
import NIOCore
import NIOHTTP1

/// Sends delivery bodies to `POST /webhooks/calendly` the way Calendly does: the exact bytes,
/// signed afresh with `t` = now.
public struct WebhookSender: Sendable {
    public struct Answer: Sendable {
        public var status: Int
        public var body: Data
        /// Header values by name as sent (the first of repeated ones).
        public var headers: [String: String] = [:]

        public init(status: Int, body: Data, headers: [String: String] = [:]) {
            self.status = status
            self.body = body
            self.headers = headers
        }

        /// The `code` of a problem answer.
        public var problemCode: String? {
            (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["code"] as? String
        }
    }

    public let url: String
    public let signingKey: String
    public let client: HTTPClient
    /// How long one delivery may take. AsyncHTTPClient keeps retrying a refused connection
    /// until this deadline, so tests that stop the daemon want it short.
    public let timeout: Duration

    public init(
        baseURL: String, signingKey: String, path: String = "/webhooks/calendly", client: HTTPClient = .shared,
        timeout: Duration = .seconds(30)
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.url = base + path
        self.signingKey = signingKey
        self.client = client
        self.timeout = timeout
    }

    /// POSTs `body` signed with this sender's key at `timestamp` (default now).
    public func send(_ body: Data, timestamp: Int64 = Timestamp.now().unixSeconds) async throws -> Answer {
        let header = WebhookSignature.sign(body, key: signingKey, timestamp: timestamp)
        return try await send(body, signatureHeader: header.headerValue)
    }

    /// POSTs `body` with any signature header (or none), for tests of refusals.
    public func send(_ body: Data, signatureHeader: String?) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let signatureHeader {
            request.headers.add(name: "Calendly-Webhook-Signature", value: signatureHeader)
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .init(timeout))
        let answer = try await response.body.collect(upTo: 1 << 22)
        let headers = Dictionary(response.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        return Answer(status: Int(response.status.code), body: Data(answer.readableBytesView), headers: headers)
    }
}
