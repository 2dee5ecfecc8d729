import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Calendly API v2 over HTTP (AsyncHTTPClient), for the parts availd uses.
///
/// URIs in Calendly's answers (`https://api.calendly.com/users/…`) are identifiers: they are
/// called on `baseURL` by their path, so a stand-in on loopback answers them. Reads (GET) that
/// meet a 5xx or a time-out are retried a bounded number of times with back-off; a 429 waits
/// for `X-RateLimit-Reset` (up to `maximumRateLimitWait`) and is retried for any method, since
/// Calendly did nothing. A booking or a cancellation that timed out or met a 5xx is *not* sent
/// again: it may have happened, and its webhook will say so. Then the call fails with
/// `CalendlyError.unavailable`.
public struct CalendlyClient: Sendable {
    public let baseURL: String
    public let token: String
    public let client: HTTPClient
    public var attempts = 3
    public var timeout: Duration = .seconds(10)
    public var backoff: Duration = .milliseconds(200)
    public var maximumRateLimitWait: Duration = .seconds(5)
    /// Told of every answer (or transport failure, `nil`) with the call's endpoint shape
    /// (`/scheduled_events/{id}`): availd's `availd_calendly_requests_total`.
    public var observe: (@Sendable (_ endpoint: String, _ status: Int?) -> Void)?
    /// Keeps a reserve of the token's rate limit (see `CalendlyRateLimitPacer`); none by default.
    public var pacer: CalendlyRateLimitPacer?

    public init(baseURL: String, token: String, client: HTTPClient = .shared) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token
        self.client = client
    }

    /// `GET /users/me`.
    public func me() async throws(CalendlyError) -> CalendlyUser {
        try await get("/users/me", as: CalendlyResource<CalendlyUser>.self).resource
    }

    /// `GET /users/{uuid}`, by the user's URI.
    public func user(uri: String) async throws(CalendlyError) -> CalendlyUser {
        try await get(try CalendlyURI.path(of: uri, shapes: [CalendlyURI.userShape]), as: CalendlyResource<CalendlyUser>.self).resource
    }

    /// `GET /scheduled_events/{uuid}`, by the event's URI: the resource as Calendly sent it
    /// (JSON), with the times, event type and hosts that an Invitee resource does not carry.
    public func scheduledEvent(uri: String) async throws(CalendlyError) -> Data {
        try await resource(at: uri, shape: CalendlyURI.scheduledEventShape)
    }

    /// Every event type of a user or an organization (`GET /event_types`), following pagination.
    /// `pageSize` is brought into Calendly's 1–100: outside it, Calendly refuses the call (400).
    public func eventTypes(user: String? = nil, organization: String? = nil, pageSize: Int = 100) async throws(CalendlyError)
        -> [CalendlyEventType]
    {
        var query = ["count": String(min(100, max(1, pageSize)))]
        if let user { query["user"] = user }
        if let organization { query["organization"] = organization }
        var all: [CalendlyEventType] = []
        // A bound on pages, in case an upstream keeps answering with a next page.
        for _ in 0..<1000 {
            let page = try await get("/event_types", query: query, as: CalendlyPage<CalendlyEventType>.self)
            all += page.collection
            guard let token = page.pagination?.nextPageToken, !token.isEmpty else { return all }
            query["page_token"] = token
        }
        throw .unexpected("event type pagination did not end")
    }

    /// `GET /event_type_available_times` for one window (Calendly accepts at most 31 days,
    /// 7 on older accounts: see `availableTimes(eventType:in:windowDays:)`).
    public func availableTimes(eventType: String, start: String, end: String) async throws(CalendlyError) -> [CalendlyAvailableTime] {
        try await get(
            "/event_type_available_times", query: ["event_type": eventType, "start_time": start, "end_time": end],
            as: CalendlyPage<CalendlyAvailableTime>.self
        ).collection
    }

    /// `POST /invitees`: books `start` on the event type. Returns the Invitee resource as
    /// Calendly sent it (JSON). A slot that is taken or not offered is Calendly's 400:
    /// `.refused(status: 400, …)`.
    public func book(eventType: String, start: String, name: String, email: String, timezone: String?) async throws(CalendlyError) -> Data {
        var invitee: [String: Any] = ["name": name, "email": email]
        if let timezone { invitee["timezone"] = timezone }
        let body = try Self.json(["event_type": eventType, "start_time": start, "invitee": invitee])
        let (status, answer) = try await send(method: .POST, url: baseURL + "/invitees", body: body, idempotent: false)
        guard status == 201 || status == 200 else { throw Self.refusal(status, answer) }
        return try Self.resource(answer)
    }

    /// `POST /scheduled_events/{uuid}/cancellation`. Calendly answers 403 for an event that is
    /// past or already canceled: `.refused(status: 403, …)`.
    public func cancel(scheduledEvent uuid: String, reason: String?) async throws(CalendlyError) {
        let uuid = try CalendlyURI.identifier(uuid)
        let body = try Self.json(reason.map { ["reason": $0] } ?? [:])
        let (status, answer) = try await send(
            method: .POST, url: baseURL + "/scheduled_events/\(uuid)/cancellation", body: body, idempotent: false)
        // Here 403 is about the event, not the token.
        guard status != 403 else { throw .refused(status: 403, message: Self.message(status, answer)) }
        guard status == 201 || status == 200 else { throw Self.refusal(status, answer) }
    }

    /// One invitee (`GET /scheduled_events/{uuid}/invitees/{uuid}`), by its URI, as JSON. Any
    /// other URI is refused, unsent.
    public func invitee(uri: String) async throws(CalendlyError) -> Data {
        try await resource(at: uri, shape: CalendlyURI.inviteeShape)
    }

    /// `GET` of Calendly's URI `uri`, which must have `shape`: the `resource` as JSON.
    private func resource(at uri: String, shape: [CalendlyURI.Segment]) async throws(CalendlyError) -> Data {
        let path = try CalendlyURI.path(of: uri, shapes: [shape])
        let (status, answer) = try await send(method: .GET, url: baseURL + path, body: nil)
        guard status == 200 else { throw Self.refusal(status, answer) }
        return try Self.resource(answer)
    }

    static func json(_ object: [String: Any]) throws(CalendlyError) -> Data {
        do {
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        } catch {
            throw .unexpected("could not encode a request: \(error)")
        }
    }

    /// The `resource` of `{resource: …}`, re-serialised.
    static func resource(_ answer: Data) throws(CalendlyError) -> Data {
        guard let object = try? JSONSerialization.jsonObject(with: answer) as? [String: Any],
            let resource = object["resource"] as? [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: resource, options: [.sortedKeys])
        else { throw .unexpected("the answer has no resource object") }
        return data
    }

    // MARK: Transport

    func get<Value: Decodable>(_ path: String, query: [String: String] = [:], as type: Value.Type) async throws(CalendlyError) -> Value {
        var components = URLComponents(string: baseURL + (try Self.path(of: path)))
        if !query.isEmpty {
            components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        }
        guard let url = components?.string else { throw .unexpected("bad URL for \(path)") }
        let (status, body) = try await send(method: .GET, url: url, body: nil)
        guard status == 200 else { throw Self.refusal(status, body) }
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw .unexpected("Calendly answered \(path) with a body that does not decode: \(error)")
        }
    }

    /// The request, retried as described above. Only to `baseURL`: the token goes nowhere else.
    func send(method: HTTPMethod, url: String, body: Data?, idempotent: Bool = true) async throws(CalendlyError) -> (Int, Data) {
        guard url.utf8.starts(with: (baseURL + "/").utf8) else { throw .unexpected("refused to send to \(url.prefix(200))") }
        var lastProblem = "no attempt"
        for attempt in 0..<max(1, attempts) {
            if attempt > 0 {
                try? await Task.sleep(for: backoff * (1 << (attempt - 1)))
            }
            await pacer?.beforeRequest()
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Accept", value: "application/json")
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            do {
                let response = try await client.execute(request, timeout: .init(timeout))
                let bytes = Data((try await response.body.collect(upTo: 8 << 20)).readableBytesView)
                let status = Int(response.status.code)
                observe?(CalendlyURI.endpoint(of: url, base: baseURL), status)
                pacer?.record(
                    limit: response.headers.first(name: "X-RateLimit-Limit"),
                    remaining: status == 429 ? "0" : response.headers.first(name: "X-RateLimit-Remaining"),
                    reset: response.headers.first(name: "X-RateLimit-Reset"), maximum: maximumRateLimitWait)
                switch status {
                case 429:
                    let wait = Self.rateLimitWait(reset: response.headers.first(name: "X-RateLimit-Reset"), maximum: maximumRateLimitWait)
                    lastProblem = "rate limited (429)"
                    try? await Task.sleep(for: wait)
                case 500...599:
                    lastProblem = "HTTP \(status)"
                    if !idempotent { throw CalendlyError.unavailable(lastProblem) }
                default:
                    return (status, bytes)
                }
            } catch let error as CalendlyError {
                throw error
            } catch {
                observe?(CalendlyURI.endpoint(of: url, base: baseURL), nil)
                lastProblem = "\(error)"
                if !idempotent { throw .unavailable(lastProblem) }
            }
        }
        throw .unavailable(lastProblem)
    }

    /// `https://api.calendly.com/users/me` → `/users/me`; a path stays a path. Only Calendly's
    /// URIs and paths of a shape the client knows: anything else is refused (`CalendlyURI`).
    static func path(of uriOrPath: String) throws(CalendlyError) -> String {
        try CalendlyURI.path(of: uriOrPath)
    }

    static func refusal(_ status: Int, _ body: Data) -> CalendlyError {
        let message = message(status, body)
        switch status {
        case 401, 403: return .unauthorized(message)
        case 404: return .notFound(message)
        default: return .refused(status: status, message: message)
        }
    }

    /// Calendly's `title: message`, or the status.
    static func message(_ status: Int, _ body: Data) -> String {
        (try? JSONDecoder().decode(CalendlyErrorBody.self, from: body)).map { "\($0.title): \($0.message)" } ?? "HTTP \(status)"
    }
}

public enum CalendlyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Calendly (or the network) failed after the retries: 502 `upstream_unavailable`.
    case unavailable(String)
    case unauthorized(String)
    case notFound(String)
    case refused(status: Int, message: String)
    case unexpected(String)

    public var description: String {
        switch self {
        case .unavailable(let why): "Calendly is unavailable: \(why)"
        case .unauthorized(let why): "Calendly refused the token: \(why)"
        case .notFound(let why): "Calendly has no such resource: \(why)"
        case .refused(let status, let why): "Calendly refused the request (\(status)): \(why)"
        case .unexpected(let why): "Calendly answered unexpectedly: \(why)"
        }
    }
}
