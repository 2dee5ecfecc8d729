import AsyncHTTPClient
import AvailCore
import AvailPostgres
import AvailServer
import AvailStore
import AvailTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// The README, "Connecting an expert's own Calendly account": OAuth 2 with PKCE against the
/// stand-in's OAuth server, driven over loopback by an HTTP client playing the browser.
@Suite struct CalendlyOAuthTests {
    /// Ada, created by the admin, with a token of her own.
    func ada(_ daemon: Daemon) async throws -> String {
        let created = try await daemon.call(.put, "/experts/ada", json: #"{"name":"Ada","email":"ada.lovelace@experts.example","timezone":"Europe/London"}"#)
        #expect(created.status == .ok)
        return try await daemon.issueToken(for: "ada", label: "browser").token
    }

    func expert(_ id: String, _ daemon: Daemon) async throws -> [String: Any] {
        try await daemon.call(.get, "/experts/\(id)").json
    }

    func expertEvents(_ daemon: Daemon) async throws -> [String] {
        try await daemon.allEvents().map(\.type).filter { $0.hasPrefix("expert.") }
    }

    @Test func theRedirectCarriesPKCEAndASingleUseState() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                let token = try await ada(daemon)
                let first = try await oauth.authorize("ada", token: token, daemon: daemon, browser: browser)
                #expect(first.status == 302)
                let location = try #require(first.location)
                #expect(location.hasPrefix(oauth.calendly + "/oauth/authorize?"))
                let query = TestBrowser.query(location)
                #expect(query["client_id"] == OAuthFixture.clientID)
                #expect(query["response_type"] == "code")
                #expect(query["redirect_uri"] == daemon.baseURL + "/oauth/calendly/callback")
                #expect(query["code_challenge_method"] == "S256")
                #expect(query["code_challenge"]?.count == 43)
                #expect((query["state"]?.count ?? 0) >= 43)
                let cookie = try #require(first.headers[canonicalForm: "Set-Cookie"].first { $0.hasPrefix("availd_oauth_browser=") })
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/oauth/calendly"))
                // Each authorization has its own state and verifier; the browser keeps its cookie.
                let again = try await oauth.authorize("ada", token: token, daemon: daemon, browser: browser)
                let second = TestBrowser.query(try #require(again.location))
                #expect(second["state"] != query["state"] && second["code_challenge"] != query["code_challenge"])
                #expect(first.headers.first(name: "Cache-Control") == "no-store")
            }
        }
    }

    @Test func onlyTheExpertThemselvesMayStartIt() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                let token = try await ada(daemon)
                #expect(try await daemon.call(.put, "/experts/grace", json: #"{"name":"Grace","email":"g@example.org","timezone":"UTC"}"#).status == .ok)
                let other = try await oauth.authorize("grace", token: token, daemon: daemon, browser: browser)
                #expect(other.status == 403 && other.problemCode == "forbidden")
                let admin = try await oauth.authorize("ada", token: daemon.configuration.adminToken, daemon: daemon, browser: browser)
                #expect(admin.status == 403)
                let nobody = try await browser.get("\(daemon.baseURL)/experts/ada/calendly/authorize")
                #expect(nobody.status == 401)
            }
        }
    }

    @Test func withoutAnAppThereIsNoFlowAndThePageSaysWhy() async throws {
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.calendlyOAuth = nil
            try await withDaemon(configuration) { daemon in
                let token = try await ada(daemon)
                let answer = try await oauth.authorize("ada", token: token, daemon: daemon, browser: browser)
                #expect(answer.status == 409 && answer.problemCode == "oauth_not_configured")
            }
        }
    }

    @Test func theWholeFlowConnectsTheExpertsOwnAccountAndRecordsNoToken() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                try await oauth.register(daemon)
                let token = try await ada(daemon)
                let callback = try await oauth.connect("ada", token: token, as: StandInUsers.ada.slug, daemon: daemon, browser: browser)
                #expect(callback.status == 302)
                #expect(callback.location == "/experts/ada/availability-settings")
                let calendly = try #require(try await expert("ada", daemon)["calendly"] as? [String: Any])
                #expect(calendly["status"] as? String == "connected")
                #expect(calendly["user_uri"] as? String == StandInUsers.ada.uri)
                #expect((calendly["organization_uri"] as? String)?.hasPrefix("https://api.calendly.com/organizations/") == true)
                #expect(calendly["event_types"] as? [Any] != nil)
                #expect(calendly.keys.contains("subscription"))
                let events = try await daemon.allEvents().filter { $0.type == CalendlyAccountConnected.type }
                #expect(events.count == 1)
                for token in try await oauth.issuedTokens() {
                    #expect(!(events.first?.body.contains(token) ?? true))
                }
                #expect(try await oauth.grants()["authorization_code"] == 1)
            }
        }
    }

    @Test func aStateWorksOnceAndOnlyInTheBrowserThatStartedIt() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                try await oauth.register(daemon)
                let token = try await ada(daemon)
                // Another browser (the attacker's) approved its own account and hands Ada's
                // browser the callback: it has no binding cookie for that state.
                let attacker = TestBrowser()
                let callback = try await oauth.callbackURL("ada", token: token, as: StandInUsers.grace.slug, daemon: daemon, browser: attacker)
                let crossBrowser = try await browser.get(callback)
                #expect(crossBrowser.status == 400 && crossBrowser.problemCode == "oauth_failed")
                // The state is spent by that attempt: not even the browser that started it may use it now.
                let replayed = try await attacker.get(callback)
                #expect(replayed.status == 400 && replayed.problemCode == "oauth_failed")
                try await attacker.shutdown()

                // A good flow, then its callback again: the state and the code are spent.
                let own = try await oauth.callbackURL("ada", token: token, as: StandInUsers.ada.slug, daemon: daemon, browser: browser)
                #expect(try await browser.get(own).status == 302)
                let again = try await browser.get(own)
                #expect(again.status == 400 && again.problemCode == "oauth_failed")
                // A state nobody issued.
                let forged = try await browser.get("\(daemon.baseURL)/oauth/calendly/callback?code=x&state=\(Secret.generate())")
                #expect(forged.status == 400 && forged.problemCode == "oauth_failed")
                let long = try await browser.get("\(daemon.baseURL)/oauth/calendly/callback?code=x&state=\(String(repeating: "s", count: 257))")
                #expect(long.status == 400 && long.problemCode == "oauth_failed")
                #expect(try await expertEvents(daemon).filter { $0 == CalendlyAccountConnected.type }.count == 1)
                #expect((try await expert("ada", daemon)["calendly"] as? [String: Any])?["user_uri"] as? String == StandInUsers.ada.uri)
            }
        }
    }

    @Test func aStateOfOneExpertCannotConnectAnother() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                try await oauth.register(daemon)
                let adaToken = try await ada(daemon)
                #expect(try await daemon.call(.put, "/experts/grace", json: #"{"name":"Grace","email":"g@example.org","timezone":"UTC"}"#).status == .ok)
                // Ada's state, approved by Grace's Calendly user, lands on Ada: the state names
                // the expert, and no parameter of the callback can change that.
                let callback = try await oauth.callbackURL("ada", token: adaToken, as: StandInUsers.grace.slug, daemon: daemon, browser: browser)
                #expect(try await browser.get(callback + "&expert=grace").status == 302)
                #expect(try await expert("grace", daemon)["calendly"] is NSNull)
                #expect((try await expert("ada", daemon)["calendly"] as? [String: Any])?["user_uri"] as? String == StandInUsers.grace.uri)
            }
        }
    }

    @Test func aDenialIsAPageAndRecordsNothing() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                try await oauth.register(daemon)
                let token = try await ada(daemon)
                let before = try await expertEvents(daemon)
                let callback = try await oauth.callbackURL("ada", token: token, as: StandInUsers.ada.slug, approve: false, daemon: daemon, browser: browser)
                #expect(TestBrowser.query(callback)["error"] == "access_denied")
                let page = try await browser.get(callback, headers: [("Accept", "text/html")])
                #expect(page.status == 400)
                #expect(page.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
                #expect(page.body.contains("data-code=\"oauth_failed\"") && page.body.contains("did not approve"))
                #expect(try await expertEvents(daemon) == before)
                #expect(try await expert("ada", daemon)["calendly"] is NSNull)
            }
        }
    }

    @Test func anExpiredStateIsRefused() async throws {
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.oauthStateLifetime = .seconds(1)
            try await withDaemon(configuration) { daemon in
                try await oauth.register(daemon)
                let token = try await ada(daemon)
                let callback = try await oauth.callbackURL("ada", token: token, as: StandInUsers.ada.slug, daemon: daemon, browser: browser)
                try await Task.sleep(for: .milliseconds(2100))
                let late = try await browser.get(callback)
                #expect(late.status == 400 && late.problemCode == "oauth_failed")
                #expect(late.json["detail"] as? String ?? "" != "" )
                #expect(try await expert("ada", daemon)["calendly"] is NSNull)
            }
        }
    }

    @Test func calendlyDownAtTheExchangeIsA502AndRecordsNothing() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                try await oauth.register(daemon)
                let token = try await ada(daemon)
                let callback = try await oauth.callbackURL("ada", token: token, as: StandInUsers.ada.slug, daemon: daemon, browser: browser)
                try await inject(#"[{"path":"/oauth/token","status":503,"times":1}]"#, oauth.control)
                let answer = try await browser.get(callback)
                #expect(answer.status == 502 && answer.problemCode == "oauth_failed")
                #expect(try await expert("ada", daemon)["calendly"] is NSNull)
            }
        }
    }

    @Test func oneCalendlyAccountBelongsToOneExpert() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                try await oauth.register(daemon)
                let adaToken = try await ada(daemon)
                #expect(try await daemon.call(.put, "/experts/mallory", json: #"{"name":"M","email":"m@example.org","timezone":"UTC"}"#).status == .ok)
                let mallory = try await daemon.issueToken(for: "mallory", label: nil).token
                #expect(try await oauth.connect("ada", token: adaToken, as: StandInUsers.ada.slug, daemon: daemon, browser: browser).status == 302)
                let second = try await oauth.connect("mallory", token: mallory, as: StandInUsers.ada.slug, daemon: daemon, browser: browser)
                #expect(second.status == 409 && second.problemCode == "oauth_failed")
                #expect(try await expert("mallory", daemon)["calendly"] is NSNull)
            }
        }
    }
}

/// Several event types through the expert's own account, and what the account's token lets
/// them connect.
@Suite struct OwnAccountEventTypesTests {
    func connected(_ oauth: OAuthFixture, _ browser: TestBrowser, _ daemon: Daemon) async throws -> String {
        try await oauth.register(daemon)
        let token = try await CalendlyOAuthTests().ada(daemon)
        #expect(try await oauth.connect("ada", token: token, as: StandInUsers.ada.slug, daemon: daemon, browser: browser).status == 302)
        return token
    }

    func asAda(_ daemon: Daemon, _ token: String, _ method: HTTPRequest.Method, _ path: String, json: String? = nil) async throws -> Daemon.JSONAnswer {
        try await daemon.call(.init(method: method, path: path, json: json), authorization: "Bearer \(token)")
    }

    @Test func theAccountsEventTypesAreListedAndSeveralCanBeChosen() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                let token = try await connected(oauth, browser, daemon)
                let listed = try await asAda(daemon, token, .get, "/experts/ada/calendly/event-types")
                #expect(listed.status == .ok)
                let types = listed.json["event_types"] as? [[String: Any]] ?? []
                #expect(Set(types.compactMap { $0["uri"] as? String }) == [StandInUsers.adaThirty, StandInUsers.adaFifteen])
                #expect(types.allSatisfy { $0["chosen"] as? Bool == false })
                #expect(Set(types.compactMap { $0["duration_minutes"] as? Int }) == [30, 15])

                let chose = try await asAda(
                    daemon, token, .put, "/experts/ada/integration",
                    json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaFifteen)","https://calendly.com/ada-lovelace/30min"]}"#)
                #expect(chose.status == .ok, "\(String(decoding: chose.body, as: UTF8.self))")
                let offered = (chose.json["calendly"] as? [String: Any])?["event_types"] as? [[String: Any]] ?? []
                #expect(offered.compactMap { $0["uri"] as? String } == [StandInUsers.adaFifteen, StandInUsers.adaThirty])
                let relisted = try await asAda(daemon, token, .get, "/experts/ada/calendly/event-types").json["event_types"] as? [[String: Any]] ?? []
                #expect(relisted.allSatisfy { $0["chosen"] as? Bool == true })

                // Availability of each, with its own length; the first chosen by default.
                func slots(_ eventType: String?) async throws -> (String?, [[String: Any]]) {
                    let query = eventType.map { "&event_type=\($0)" } ?? ""
                    let answer = try await daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)\(query)")
                    #expect(answer.status == .ok, "\(String(decoding: answer.body, as: UTF8.self))")
                    return (answer.json["event_type"] as? String, answer.json["slots"] as? [[String: Any]] ?? [])
                }
                func minutes(_ slot: [String: Any]) -> Int64 {
                    guard let start = (slot["start_time"] as? String).flatMap(Timestamp.init(rfc3339:)),
                        let end = (slot["end_time"] as? String).flatMap(Timestamp.init(rfc3339:))
                    else { return -1 }
                    return (end.microseconds - start.microseconds) / 60_000_000
                }
                let (defaultType, defaultSlots) = try await slots(nil)
                #expect(defaultType == StandInUsers.adaFifteen)
                #expect(!defaultSlots.isEmpty && defaultSlots.allSatisfy { minutes($0) == 15 })
                let (thirtyType, thirty) = try await slots(StandInUsers.adaThirty)
                #expect(thirtyType == StandInUsers.adaThirty)
                #expect(!thirty.isEmpty && thirty.allSatisfy { minutes($0) == 30 })
                let unknown = try await daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)&event_type=\(StandInUsers.graceSixty)")
                #expect(unknown.status == .badRequest && unknown.problem?.code == "event_type_not_offered")

                // Booking the 30-minute one gives a 30-minute appointment, Ada's at once.
                let start = try #require(thirty.first?["start_time"] as? String)
                let booked = try await asAda(
                    daemon, token, .post, "/experts/ada/appointments",
                    json: #"{"event_type":"\#(StandInUsers.adaThirty)","start_time":"\#(start)","invitee":{"name":"Iris","email":"iris@example.org"}}"#)
                #expect(booked.status == .created, "\(String(decoding: booked.body, as: UTF8.self))")
                #expect(booked.json["expert_id"] as? String == "ada")
                #expect(minutes(booked.json) == 30)
            }
        }
    }

    @Test func anAccountConnectsNoOneElsesEventType() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                let token = try await connected(oauth, browser, daemon)
                let logged = try await daemon.allEvents().count
                for attempt in [StandInUsers.graceSixty, "https://calendly.com/grace-hopper/60min"] {
                    let json = #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)","\#(attempt)"]}"#
                    let own = try await asAda(daemon, token, .put, "/experts/ada/integration", json: json)
                    #expect(own.status == .forbidden && own.problem?.code == "not_your_event_type", "\(attempt)")
                    // Not the admin either: the account's token is the proof, and it lists no such event type.
                    let admin = try await daemon.call(.put, "/experts/ada/integration", json: json)
                    #expect(admin.status == .forbidden && admin.problem?.code == "not_your_event_type", "\(attempt)")
                }
                #expect(try await daemon.allEvents().count == logged)
                let repeated = try await asAda(
                    daemon, token, .put, "/experts/ada/integration",
                    json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)","\#(StandInUsers.adaThirty)"]}"#)
                #expect(repeated.status == .badRequest)
                let empty = try await asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":[]}"#)
                #expect(empty.status == .badRequest)
            }
        }
    }

    @Test func twentyRequestsRacingAtExpiryMakeOneRefresh() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.databasePath = folder.path("availd.sqlite")
            configuration.secretKey = "a secret key that is long enough to seal with"
            // One window per day, so each request below is its own call to Calendly.
            configuration.calendlyWindowDays = 1
            try await withDaemon(configuration) { daemon in
                let token = try await connected(oauth, browser, daemon)
                #expect(try await asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#).status == .ok)
                // Two hours pass: the access token is expired when the twenty arrive.
                try await StoredTokens(databasePath: folder.path("availd.sqlite"), secretKey: "a secret key that is long enough to seal with").expire("ada")
                let statuses = try await twentyDaysOfAvailability(from: [daemon])
                #expect(statuses.count == 20 && statuses.allSatisfy { $0 == 200 }, "\(statuses)")
                let grants = try await oauth.grants()
                #expect(grants["refresh_token"] == 1)
                #expect(grants["invalid_grant"] ?? 0 == 0)
            }
        }
    }

    /// Ada's availability on each of the next twenty days (one Calendly call each, with one
    /// window per day), asked at once (the test client would send them one by one) and spread
    /// over `daemons`; their statuses.
    func twentyDaysOfAvailability(from daemons: [Daemon]) async throws -> [UInt] {
        let today = Timestamp.now().unixSeconds / 86_400
        return try await withThrowingTaskGroup(of: UInt.self) { group in
            for day in Int64(1)...20 {
                let start = Timestamp(microseconds: (today + day) * 86_400_000_000)
                let end = Timestamp(microseconds: (today + day + 1) * 86_400_000_000)
                let daemon = daemons[Int(day) % daemons.count]
                group.addTask {
                    let request = HTTPClientRequest(url: "\(daemon.baseURL)/experts/ada/availability?start_time=\(start)&end_time=\(end)")
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    return response.status.code
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Two daemons on one PostgreSQL database, twenty requests at expiry spread over both:
    /// still one refresh, and no refresh token spent twice (Calendly would answer the second
    /// with invalid_grant).
    @Test func twentyRequestsAtExpiryOverTwoDaemonsMakeOneRefresh() async throws {
        let url = try TestPostgres.server().newDatabase()
        let secretKey = "a secret key that is long enough to seal with"
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.databasePath = url
            configuration.secretKey = secretKey
            configuration.calendlyWindowDays = 1
            let shared = configuration
            try await withDaemon(shared) { first in
                let token = try await connected(oauth, browser, first)
                #expect(try await asAda(first, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#).status == .ok)
                try await withDaemon(shared) { second in
                    try await AvailPostgresDatabase.withDatabase(url: url, logger: Logger(label: "availd-test")) { database in
                        let store = PostgresCalendlyCredentials(database: database, sealer: try TokenSealer(secretKey: secretKey))
                        let stored = try #require(try await store.load(expertID: "ada"))
                        var tokens = stored.tokens
                        tokens.expiresAt = Timestamp(microseconds: Timestamp.now().microseconds - 1_000_000)
                        #expect(try await store.rotate(expertID: "ada", userURI: stored.userURI, from: stored.version, to: tokens, at: .now()))
                    }
                    let statuses = try await twentyDaysOfAvailability(from: [first, second])
                    #expect(statuses.count == 20 && statuses.allSatisfy { $0 == 200 }, "\(statuses)")
                    let grants = try await oauth.grants()
                    #expect(grants["refresh_token"] == 1, "\(grants)")
                    #expect(grants["invalid_grant"] ?? 0 == 0, "\(grants)")
                }
            }
        }
    }

    @Test func invalidGrantMeansReconnectAndAReconnectMends() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.databasePath = folder.path("availd.sqlite")
            configuration.secretKey = "a secret key that is long enough to seal with"
            try await withDaemon(configuration) { daemon in
                let token = try await connected(oauth, browser, daemon)
                #expect(try await asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#).status == .ok)
                // Ada removed the app in Calendly.
                try await oauth.sim("/_sim/oauth/revoke_user", #"{"user":"\#(StandInUsers.ada.uri)"}"#)
                // Two hours pass: the next request must refresh, and Calendly refuses.
                try await StoredTokens(databasePath: folder.path("availd.sqlite"), secretKey: "a secret key that is long enough to seal with").expire("ada")
                let refused = try await daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)")
                #expect(refused.status == .badGateway && refused.problem?.code == "calendly_reconnect_needed")
                let calendly = try await CalendlyOAuthTests().expert("ada", daemon)["calendly"] as? [String: Any]
                #expect(calendly?["status"] as? String == "needs_reconnect")
                #expect(try await daemon.allEvents().contains { $0.type == CalendlyReconnectNeeded.type })
                // Asking again does not ask Calendly again.
                let grants = try await oauth.grants()
                #expect(try await daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)").status == .badGateway)
                #expect(try await oauth.grants() == grants)

                #expect(try await oauth.connect("ada", token: token, as: StandInUsers.ada.slug, daemon: daemon, browser: browser).status == 302)
                #expect((try await CalendlyOAuthTests().expert("ada", daemon)["calendly"] as? [String: Any])?["status"] as? String == "connected")
                // The same account: its chosen event types stay.
                #expect(try await daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)").status == .ok)
            }
        }
    }

    @Test func everyCallToCalendlyIsCountedByEndpointAndStatus() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                let token = try await connected(oauth, browser, daemon)
                #expect(try await asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#).status == .ok)
                try await inject(#"[{"path":"/event_type_available_times","status":429,"times":1,"rate_limit_reset":1}]"#, oauth.control)
                #expect(try await daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)").status == .ok)
                let metrics = String(buffer: try await daemon.client.execute(uri: "/metrics", method: .get).body)
                for line in [
                    #"availd_calendly_requests_total{endpoint="/oauth/token",status="200"} 1"#,
                    #"availd_calendly_requests_total{endpoint="/users/me",status="200"} 1"#,
                    #"availd_calendly_requests_total{endpoint="/event_type_available_times",status="429"} 1"#,
                    #"availd_calendly_rate_limited_total 1"#,
                ] {
                    #expect(metrics.contains(line), "\(line)")
                }
                #expect(metrics.contains(#"availd_calendly_requests_total{endpoint="/event_type_available_times",status="200"}"#))
            }
        }
    }

    @Test func disconnectRevokesAtCalendlyAndErases() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                let token = try await connected(oauth, browser, daemon)
                #expect(try await asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#).status == .ok)
                let issued = try await oauth.issuedTokens()
                #expect(!issued.isEmpty)
                let disconnected = try await asAda(daemon, token, .delete, "/experts/ada/integration")
                #expect(disconnected.status == .ok)
                #expect(disconnected.json["calendly"] is NSNull && disconnected.json["integration_type"] as? String == "none")
                for token in issued { #expect(try await oauth.isActive(token) == false) }
                // Nothing left to ask Calendly with.
                let listed = try await asAda(daemon, token, .get, "/experts/ada/calendly/event-types")
                #expect(listed.status == .conflict && listed.problem?.code == "calendly_not_connected")
            }
        }
    }
}

/// What the settings page shows of the expert's own Calendly account (the Chromium run
/// drives the same page through the whole flow).
@Suite struct OwnAccountPageTests {
    func page(_ daemon: Daemon, token: String) async throws -> String {
        let (browser, _) = try await SettingsPageTests.signedIn(daemon, token: token)
        let page = try await browser.request(.GET, "/experts/ada/availability-settings")
        #expect(page.status == 200)
        return page.text
    }

    @Test func withoutAnOAuthAppThePageSaysWhyAndOffersNoButton() async throws {
        try await withOAuth { oauth, _ in
            var configuration = oauth.configuration(organizationToken: "calendly-token-admin")
            configuration.calendlyOAuth = nil
            try await withDaemon(configuration) { daemon in
                let text = try await page(daemon, token: try await CalendlyOAuthTests().ada(daemon))
                #expect(text.contains(#"id="oauth-unavailable""#) && text.contains("--calendly-client-id"))
                #expect(!text.contains(#"id="connect-calendly""#))
                // The organization's event link still works.
                #expect(text.contains(#"id="calendly-form""#))
            }
        }
    }

    @Test func connectedItListsTheEventTypesAndRefusedItOffersReconnect() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.databasePath = folder.path("availd.sqlite")
            configuration.secretKey = "a secret key that is long enough to seal with"
            try await withDaemon(configuration) { daemon in
                let before = try await page(daemon, token: try await CalendlyOAuthTests().ada(daemon))
                #expect(before.contains(#"href="/experts/ada/calendly/authorize""#) && before.contains(#"id="connect-calendly""#))

                let token = try await OwnAccountEventTypesTests().connected(oauth, browser, daemon)
                let connected = try await page(daemon, token: token)
                #expect(connected.contains(#"data-status="connected""#))
                #expect(connected.contains(#"value="\#(StandInUsers.adaThirty)""#) && connected.contains("30 Minute Meeting · 30 minutes"))
                #expect(connected.contains(#"value="\#(StandInUsers.adaFifteen)""#) && connected.contains("15 Minute Intro · 15 minutes"))
                #expect(!connected.contains(#"id="connect-calendly""#) && !connected.contains(#"id="reconnect""#))

                // Ada removed the app in Calendly: the page says so, with the way back.
                try await oauth.sim("/_sim/oauth/revoke_user", #"{"user":"\#(StandInUsers.ada.uri)"}"#)
                try await StoredTokens(databasePath: folder.path("availd.sqlite"), secretKey: "a secret key that is long enough to seal with").expire("ada")
                _ = try await page(daemon, token: token)  // asks Calendly, which refuses the refresh
                let refused = try await page(daemon, token: token)
                #expect(refused.contains(#"data-status="needs_reconnect""#))
                #expect(refused.contains(#"id="reconnect" href="/experts/ada/calendly/authorize""#))
                #expect(!refused.contains(#"id="event-types-form""#))
            }
        }
    }
}
