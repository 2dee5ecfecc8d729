import AsyncHTTPClient
import AvailClient
import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// A live availd on a free loopback port, with clients for it.
struct Daemon: Sendable {
    let client: any TestClientProtocol
    let port: Int
    let configuration: AvailServer.Configuration

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var sender: WebhookSender { WebhookSender(baseURL: baseURL, signingKey: configuration.signingKeys[0]) }
    var admin: HTTPFields { [.authorization: "Bearer \(configuration.adminToken)"] }

    /// `GET path` as admin, decoded.
    func adminGet<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let response = try await client.execute(uri: path, method: .get, headers: admin)
        guard response.status == .ok else { throw HTTPError(response.status, message: String(buffer: response.body)) }
        return try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    /// Every event in the log, following `next_after`.
    func allEvents() async throws -> [EventItem] {
        var events: [EventItem] = []
        var after: Int64 = 0
        while true {
            let page = try await adminGet("/events?after=\(after)&limit=1000", as: EventPage.self)
            events += page.events
            if page.events.isEmpty { return events }
            after = page.nextAfter
        }
    }
}

typealias ProblemDocument = Problem.Document

func withDaemon(
    _ configuration: AvailServer.Configuration = .testing(),
    logger: Logger? = nil,
    _ body: @Sendable (Daemon) async throws -> Void
) async throws {
    var logger = logger ?? Logger(label: "availd-test")
    if logger.label == "availd-test" { logger.logLevel = .warning }
    let app = try await buildApplication(configuration: configuration, logger: logger)
    try await app.test(.live) { client in
        try await body(Daemon(client: client, port: client.port!, configuration: configuration))
    }
}

extension WebhookSender.Answer {
    var problem: ProblemDocument? { try? JSONDecoder().decode(ProblemDocument.self, from: body) }
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
}

let builder = DeliveryBuilder()
