import AsyncHTTPClient
import AvailCore
import AvailServer
import AvailStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// A browser, as far as OAuth needs one: cookies per host and port (with their paths), no
/// redirect followed on its own, so each hop can be looked at.
final class TestBrowser: Sendable {
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: String

        var location: String? { headers.first(name: "Location") }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
        var problemCode: String? { json["code"] as? String }
    }

    private struct StoredCookie {
        var value: String
        var path: String
    }

    private let client = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
    /// host:port → name → cookie.
    private let jar = Mutex<[String: [String: StoredCookie]]>([:])

    func shutdown() async throws {
        try await client.shutdown()
    }

    func get(_ url: String, headers: [(String, String)] = []) async throws -> Answer {
        try await send(url, method: .GET, headers: headers, body: nil)
    }

    func post(form url: String, _ fields: [(String, String)]) async throws -> Answer {
        try await send(
            url, method: .POST, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: TestBrowser.form(fields))
    }

    /// The value of cookie `name` the browser holds for `url`'s host.
    func cookie(_ name: String, for url: String) -> String? {
        guard let key = Self.origin(url) else { return nil }
        return jar.withLock { $0[key]?[name]?.value }
    }

    func send(_ url: String, method: HTTPMethod, headers: [(String, String)], body: String?) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let key = Self.origin(url) ?? ""
        let path = URLComponents(string: url)?.path ?? "/"
        let cookies = jar.withLock { jar in
            (jar[key] ?? [:]).filter { path.hasPrefix($0.value.path) }.map { "\($0.key)=\($0.value.value)" }.sorted()
        }
        if !cookies.isEmpty { request.headers.add(name: "Cookie", value: cookies.joined(separator: "; ")) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 4 << 20))
        for header in response.headers[canonicalForm: "Set-Cookie"] { store(String(header), for: key) }
        return Answer(status: Int(response.status.code), headers: response.headers, body: text)
    }

    private func store(_ header: String, for key: String) {
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { return }
        let name = String(pair[..<equals])
        let value = String(pair[pair.index(after: equals)...])
        var path = "/"
        var expired = false
        for attribute in parts.dropFirst() {
            let lower = attribute.lowercased()
            if lower.hasPrefix("path=") { path = String(attribute.dropFirst(5)) }
            if lower == "max-age=0" { expired = true }
        }
        jar.withLock { jar in
            if expired { jar[key]?[name] = nil } else { jar[key, default: [:]][name] = StoredCookie(value: value, path: path) }
        }
    }

    static func origin(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.host else { return nil }
        return "\(host):\(components.port ?? 80)"
    }

    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map {
            "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
    }

    static func query(_ url: String) -> [String: String] {
        var query: [String: String] = [:]
        for item in URLComponents(string: url)?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        return query
    }
}

/// The stand-in as an OAuth server for one daemon: the app registered with the daemon's
/// callback, and the daemon configured to use it.
struct OAuthFixture {
    static let clientID = "availd-test-app"
    static let clientSecret = "availd-test-app-secret"

    let calendly: String
    let control: any TestClientProtocol

    /// A daemon configuration that reaches the stand-in for the API and OAuth, without the
    /// organization token unless `organizationToken` is given.
    func configuration(organizationToken: String? = nil) -> AvailServer.Configuration {
        var configuration = AvailServer.Configuration.testing()
        configuration.calendlyAPI = calendly
        configuration.calendlyAuth = calendly
        configuration.calendlyToken = organizationToken
        // The stand-in is seeded as an older account: at most 7 days per available-times call.
        configuration.calendlyWindowDays = 7
        configuration.calendlyOAuth = CalendlyOAuthApp(clientID: Self.clientID, clientSecret: Self.clientSecret)
        return configuration
    }

    /// Registers the app with `daemon`'s callback as its redirect URI.
    func register(_ daemon: Daemon) async throws {
        try await sim("/_sim/oauth/apps", #"{"client_id":"\#(Self.clientID)","client_secret":"\#(Self.clientSecret)","redirect_uris":["\#(daemon.baseURL)/oauth/calendly/callback"]}"#)
    }

    func sim(_ path: String, _ json: String) async throws {
        let response = try await control.execute(uri: path, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
        #expect(response.status == .noContent, "\(path): \(response.status)")
    }

    /// Successful grants by type, and `invalid_grant` answers, since the stand-in started.
    func grants() async throws -> [String: Int] {
        let response = try await control.execute(uri: "/_sim/oauth/grants", method: .get)
        return (try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Int]) ?? [:]
    }

    /// Every access and refresh token the stand-in ever issued.
    func issuedTokens() async throws -> [String] {
        let response = try await control.execute(uri: "/_sim/oauth/tokens", method: .get)
        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return object?["tokens"] as? [String] ?? []
    }

    /// `POST /oauth/introspect` for `token`: whether Calendly still honours it.
    func isActive(_ token: String) async throws -> Bool {
        let body = TestBrowser.form([("token", token), ("client_id", Self.clientID), ("client_secret", Self.clientSecret)])
        let response = try await control.execute(
            uri: "/oauth/introspect", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return object?["active"] as? Bool ?? false
    }

    /// The way to the stand-in's authorize page: `GET /experts/{id}/calendly/authorize` with
    /// the expert's token; the answer (a 302 to Calendly when it works).
    func authorize(_ expert: String, token: String, daemon: Daemon, browser: TestBrowser) async throws -> TestBrowser.Answer {
        try await browser.get("\(daemon.baseURL)/experts/\(expert)/calendly/authorize", headers: [("Authorization", "Bearer \(token)")])
    }

    /// At the stand-in's page: `user` approves (or denies) the authorization `location` asks
    /// for; the stand-in's answer (a 302 to availd's callback).
    func decide(_ location: String, as user: String, approve: Bool = true, browser: TestBrowser) async throws -> TestBrowser.Answer {
        let page = try await browser.get(location)
        #expect(page.status == 200, "the authorize page: \(page.body.prefix(300))")
        var fields = TestBrowser.query(location).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        fields += [("user", user), ("decision", approve ? "approve" : "deny")]
        return try await browser.post(form: calendly + "/oauth/authorize", fields)
    }

    /// Authorize and approve (or deny) as `user`: the callback URL Calendly sends the browser to.
    func callbackURL(
        _ expert: String, token: String, as user: String, approve: Bool = true, daemon: Daemon, browser: TestBrowser
    ) async throws -> String {
        let redirect = try await authorize(expert, token: token, daemon: daemon, browser: browser)
        let location = try #require(redirect.location, "authorize: \(redirect.status) \(redirect.body)")
        let decided = try await decide(location, as: user, approve: approve, browser: browser)
        return try #require(decided.location, "decide: \(decided.status) \(decided.body.prefix(300))")
    }

    /// The whole flow, as a browser drives it: authorize, approve as `user`, callback. The
    /// callback's answer.
    @discardableResult
    func connect(_ expert: String, token: String, as user: String, daemon: Daemon, browser: TestBrowser) async throws -> TestBrowser.Answer {
        let redirect = try await authorize(expert, token: token, daemon: daemon, browser: browser)
        #expect(redirect.status == 302, "authorize: \(redirect.body)")
        let approved = try await decide(try #require(redirect.location), as: user, browser: browser)
        #expect(approved.status == 302, "approve: \(approved.body.prefix(300))")
        return try await browser.get(try #require(approved.location))
    }
}

/// The daemon's stored Calendly tokens for an expert, opened as another process on the same
/// database would: to let time pass (an access token that expired) without waiting for it.
struct StoredTokens {
    let store: any CalendlyCredentialStore

    init(databasePath: String, secretKey: String) throws {
        store = CalendlyCredentials(database: try LogDatabase.open(path: databasePath), sealer: try TokenSealer(secretKey: secretKey))
    }

    /// Makes `expert`'s access token expired a second ago (the same tokens otherwise).
    func expire(_ expert: String) async throws {
        let stored = try #require(try await store.load(expertID: expert))
        var tokens = stored.tokens
        tokens.expiresAt = Timestamp(microseconds: Timestamp.now().microseconds - 1_000_000)
        #expect(try await store.rotate(expertID: expert, userURI: stored.userURI, from: stored.version, to: tokens, at: .now()))
    }
}

/// The stand-in, and a browser, for `body`; the browser is shut down afterwards.
func withOAuth(_ body: @Sendable (OAuthFixture, TestBrowser) async throws -> Void) async throws {
    try await withCalendly { baseURL, control in
        let browser = TestBrowser()
        do {
            try await body(OAuthFixture(calendly: baseURL, control: control), browser)
        } catch {
            try? await browser.shutdown()
            throw error
        }
        try await browser.shutdown()
    }
}

/// Seeded users of the stand-in (`fixtures/calendly-api/state.json`).
enum StandInUsers {
    static let ada = (slug: "ada-lovelace", uri: "https://api.calendly.com/users/fa34b458-2602-4848-90f7-32756ce929ac")
    static let grace = (slug: "grace-hopper", uri: "https://api.calendly.com/users/c44fbb8a-28b8-40b4-b9aa-e9d16159c8c1")
    static let adaThirty = "https://api.calendly.com/event_types/839a144c-94df-45bf-9708-62a6c496b3a5"
    static let adaFifteen = "https://api.calendly.com/event_types/7626b122-3743-4b01-a20c-bf977b856040"
    static let graceSixty = "https://api.calendly.com/event_types/1d943767-b7f0-40f8-9907-8f434e9e2aae"
}
