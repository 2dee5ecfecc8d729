import AvailCore
import AvailClient
import AvailServer
import AvailStore
import AvailTesting
import Foundation
import HTTPTypes
import Logging
import Synchronization
import Testing

/// Calendly tokens are secrets: sealed at rest, and nowhere else. And a connection outlives
/// the daemon.
@Suite struct CalendlyTokenSecrecyTests {
    @Test func tokensAreNowhereAfterAFullFlow() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            let lines = LineStore()
            var logger = Logger(label: "availd-secrecy", factory: { _ in CapturingLogHandler(store: lines) })
            logger.logLevel = .trace
            var configuration = oauth.configuration()
            configuration.databasePath = folder.path("availd.sqlite")
            configuration.secretKey = "a secret key that is long enough to seal with"
            let answers = LineStore()
            try await withDaemon(configuration, logger: logger) { daemon in
                let flow = OwnAccountEventTypesTests()
                let token = try await flow.connected(oauth, browser, daemon)
                let chose = try await flow.asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#)
                // A refresh, so rotated tokens are in play too.
                try await StoredTokens(databasePath: folder.path("availd.sqlite"), secretKey: "a secret key that is long enough to seal with").expire("ada")
                let slots = try await daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)")
                #expect(slots.status == .ok)
                #expect(try await oauth.grants()["refresh_token"] == 1)
                for answer in [
                    chose, slots, try await daemon.call(.get, "/experts/ada"), try await daemon.call(.get, "/events?limit=1000"),
                    try await flow.asAda(daemon, token, .get, "/experts/ada/calendly/event-types"),
                ] {
                    answers.lines.withLock { $0.append(String(decoding: answer.body, as: UTF8.self) + "\(answer.headers)") }
                }
            }
            let issued = try await oauth.issuedTokens()
            #expect(issued.count == 4, "a pair for the code, one for the refresh: \(issued.count)")
            let logText = lines.lines.withLock { $0.joined(separator: "\n") }
            let answered = answers.lines.withLock { $0 }
            #expect(logText.contains("calendly token refreshed"), "the log was captured")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).map { folder.path($0) }
            #expect(files.contains { $0.hasSuffix("availd.sqlite") })
            let stored = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
            for token in issued {
                #expect(!logText.contains(token))
                #expect(!answered.contains { $0.contains(token) })
                #expect(!stored.contains { $0.range(of: Data(token.utf8)) != nil }, "in plain text on disk")
            }
            // `availd export` is the log as `/events` shows it: covered by the answers above.
        }
    }

    @Test func aRestartKeepsTheConnectionAndAnotherKeyCannotOpenIt() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.databasePath = folder.path("availd.sqlite")
            configuration.secretKey = "a secret key that is long enough to seal with"
            let range = CalendlyAvailabilityTests.range
            try await withDaemon(configuration) { daemon in
                let flow = OwnAccountEventTypesTests()
                let token = try await flow.connected(oauth, browser, daemon)
                #expect(try await flow.asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#).status == .ok)
            }
            try await withDaemon(configuration) { daemon in
                let answer = try await daemon.call(.get, "/experts/ada/availability?\(range)")
                #expect(answer.status == .ok && !(answer.json["slots"] as? [Any] ?? []).isEmpty)
                #expect((try await daemon.call(.get, "/experts/ada").json["calendly"] as? [String: Any])?["status"] as? String == "connected")
            }
            configuration.secretKey = "another secret key, also long enough to seal"
            try await withDaemon(configuration) { daemon in
                let answer = try await daemon.call(.get, "/experts/ada/availability?\(range)")
                #expect(answer.status == .badGateway && answer.problem?.code == "calendly_reconnect_needed")
            }
        }
    }
}

/// Two processes refreshing one connection at once: Calendly answers one of them
/// `invalid_grant` (a refresh token works once), and that one must take the other's stored
/// pair, not mark the connection lost.
@Suite struct TokenRefreshRaceTests {
    @Test func theLoserOfARefreshRaceUsesTheWinnersTokens() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.databasePath = folder.path("availd.sqlite")
            configuration.secretKey = "the secret key both processes were started with"
            configuration.calendlyCacheTTL = .zero
            try await withDaemon(configuration) { daemon in
                let flow = OwnAccountEventTypesTests()
                let token = try await flow.connected(oauth, browser, daemon)
                #expect(try await flow.asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#).status == .ok)
                try await StoredTokens(databasePath: folder.path("availd.sqlite"), secretKey: "the secret key both processes were started with").expire("ada")

                // The daemon's refresh reaches Calendly late (held 5 s, time enough for the other process
                // even on a loaded machine); the other process's, at once.
                try await inject(#"[{"path":"/oauth/token","status":200,"times":1,"delay_ms":5000}]"#, oauth.control)
                let before = try await requestCount("/oauth/token", oauth.control)
                async let slots = daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)")
                // Only once the daemon's refresh is at Calendly (held there) does the other process refresh.
                let deadline = ContinuousClock.now + .seconds(30)
                while try await requestCount("/oauth/token", oauth.control) == before, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(try await requestCount("/oauth/token", oauth.control) == before + 1, "the daemon's refresh never reached Calendly")
                let other = CalendlyCredentials(
                    database: try LogDatabase.open(path: folder.path("availd.sqlite")),
                    sealer: try TokenSealer(secretKey: "the secret key both processes were started with"))
                let stored = try #require(try await other.load(expertID: "ada"))
                let client = CalendlyOAuthClient(
                    authURL: oauth.calendly, clientID: OAuthFixture.clientID, clientSecret: OAuthFixture.clientSecret, redirectURI: "unused")
                let grant = try await client.refresh(stored.tokens.refreshToken)
                let rotated = CalendlyTokens(
                    accessToken: grant.accessToken, refreshToken: grant.refreshToken,
                    expiresAt: Timestamp(microseconds: Timestamp.now().microseconds + 3_600_000_000))
                #expect(try await other.rotate(expertID: "ada", userURI: stored.userURI, from: stored.version, to: rotated, at: .now()))

                let answer = try await slots
                #expect(answer.status == .ok, "\(String(decoding: answer.body, as: UTF8.self))")
                let grants = try await oauth.grants()
                #expect(grants["invalid_grant"] == 1, "the daemon's refresh lost the race: \(grants)")
                #expect((try await daemon.call(.get, "/experts/ada").json["calendly"] as? [String: Any])?["status"] as? String == "connected")
                #expect(!(try await daemon.allEvents().contains { $0.type == CalendlyReconnectNeeded.type }))
                #expect(try await other.load(expertID: "ada")?.tokens == rotated)
            }
        }
    }
}
