import AsyncHTTPClient
import AvailCore
import AvailTesting
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif
import NIOHTTP1

/// The Calendly stand-in as its own process (`availd-sim calendly`), on loopback, seeded with
/// `fixtures/calendly-api/state.json`.
struct StandInProcess {
    static let organization = "https://api.calendly.com/organizations/561509c9-96dd-4445-989c-8a74f3088068"
    /// The organization's owner: the organization token of these tests.
    static let admin = (token: "calendly-token-admin", uri: "https://api.calendly.com/users/ffd03ffd-c9f2-476c-aa8c-8a8e6237057a")
    static let ada = (token: "calendly-token-ada", slug: "ada-lovelace", uri: "https://api.calendly.com/users/fa34b458-2602-4848-90f7-32756ce929ac")
    static let adaThirty = "https://api.calendly.com/event_types/839a144c-94df-45bf-9708-62a6c496b3a5"

    let process: AvaildProcess
    let url: String

    static func start() async throws -> StandInProcess {
        let process = try AvaildProcess("availd-sim", [
            "calendly", "--port", "0", "--state", TestPaths.fixtures.appendingPathComponent("calendly-api/state.json").path])
        return StandInProcess(process: process, url: try await process.stdoutValue(after: "calendly stand-in listening on "))
    }

    func stop() {
        process.signal(SIGTERM)
    }

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    /// Any request to `url` (the stand-in's, or the daemon's), with no redirect followed.
    static func send(
        _ method: HTTPMethod, _ url: String, bearer: String? = nil, headers: [(String, String)] = [], json: String? = nil,
        form: String? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    private static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    func call(_ method: HTTPMethod, _ path: String, bearer: String? = admin.token, json: String? = nil) async throws -> Answer {
        try await Self.send(method, url + path, bearer: bearer, json: json)
    }

    /// A `/_sim` switch; true when the stand-in took it.
    func sim(_ path: String, _ json: String) async throws -> Bool {
        try await call(.POST, path, bearer: nil, json: json).status == 204
    }

    /// The subscriptions of the organization (`scope` `organization`), or of `user`, as the
    /// organization's owner lists them.
    func listed(scope: String = "organization", user: String? = nil) async throws -> [[String: Any]] {
        var query = "organization=\(Self.organization)&scope=\(scope)"
        if let user { query += "&user=\(user)" }
        return try await call(.GET, "/webhook_subscriptions?\(query)").json["collection"] as? [[String: Any]] ?? []
    }

    /// Every change to a subscription, in order: `(action, uri)`.
    func history() async throws -> [(action: String, uri: String)] {
        let items = try await call(.GET, "/_sim/webhooks/history", bearer: nil).json["history"] as? [[String: Any]] ?? []
        return items.map { ($0["action"] as? String ?? "", $0["uri"] as? String ?? "") }
    }

    /// `{url: {sent, failed, dropped}}`: what the stand-in delivered to each URL.
    func delivered() async throws -> [String: [String: Int]] {
        try await call(.GET, "/_sim/webhooks/delivered", bearer: nil).json as? [String: [String: Int]] ?? [:]
    }

    /// Books the first free slot of Ada's 30-minute event type at Calendly itself (as an
    /// invitee on Calendly's page would): the stand-in delivers `invitee.created` to every
    /// subscription that covers it before it answers. The answer's status.
    func bookWithAda(invitee: String) async throws -> Int {
        let day: Int64 = 86_400_000_000
        let from = Timestamp(microseconds: Timestamp.now().microseconds + day)
        let to = Timestamp(microseconds: from.microseconds + 6 * day)
        let times = try await call(
            .GET, "/event_type_available_times?event_type=\(Self.adaThirty)&start_time=\(from)&end_time=\(to)", bearer: Self.ada.token)
        guard let slot = (times.json["collection"] as? [[String: Any]])?.first?["start_time"] as? String else { return times.status }
        let body = #"{"event_type":"\#(Self.adaThirty)","start_time":"\#(slot)","invitee":{"name":"\#(invitee)","email":"\#(invitee.lowercased())@example.org"}}"#
        return try await call(.POST, "/invitees", bearer: Self.ada.token, json: body).status
    }
}

/// A port nothing listens on now, for a daemon whose URL must be known before it starts (a
/// subscription made before `serve` runs); see `LoopbackPorts`.
func freePort() throws -> Int {
    guard let port = LoopbackPorts.free(1).first else {
        throw AvaildProcess.Failure(description: "no free loopback port below \(LoopbackPorts.ephemeralStart)")
    }
    return port
}

/// The availd command's output lines that start with `prefix`.
func lines(_ text: String, startingWith prefix: String) -> [String] {
    text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
}
