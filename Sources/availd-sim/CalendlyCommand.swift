import ArgumentParser
import CalendlyStandIn
import Foundation
import Hummingbird
import Logging

/// Runs the Calendly stand-in on its own, for the demo or a manual try.
struct CalendlyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendly",
        abstract: "Serve a stand-in of Calendly's API v2 and OAuth 2 (/oauth/authorize, /oauth/token, ...) on loopback.",
        discussion: """
            Point availd at it with --calendly-api http://127.0.0.1:PORT and one of the seed's tokens, or connect \
            through OAuth with one of the seed's oauth_apps (or the one --client-id registers).
            """)

    @Option(help: "The port (0 picks a free one).")
    var port = 8081

    @Option(help: "The seed: users, tokens, event types and OAuth apps.")
    var state = "fixtures/calendly-api/state.json"

    @Option(name: .customLong("client-id"), help: "Register an OAuth app with this client ID, besides the seed's (with --client-secret and --redirect-uri).")
    var clientID: String?

    @Option(name: .customLong("client-secret"), help: "The app's client secret.")
    var clientSecret: String?

    @Option(name: .customLong("redirect-uri"), help: "A redirect URI of the app, matched exactly (repeatable).")
    var redirectURI: [String] = []

    @Option(name: .customLong("token-lifetime"), help: "Seconds an OAuth access token lives.")
    var tokenLifetime = 7200

    @Option(name: .customLong("rate-limit"), help: "API requests per user per minute (default: the seed's, else 500).")
    var rateLimit: Int?

    @Option(name: .customLong("invitees-limit"), help: "POST /invitees per user per minute (default: the seed's, else 10).")
    var inviteesLimit: Int?

    @Option(name: .customLong("token-limit"), help: "POST /oauth/token per user per minute (default: the seed's, else 8).")
    var tokenLimit: Int?

    func validate() throws {
        let given = [clientID != nil, clientSecret != nil, !redirectURI.isEmpty]
        if given.contains(true), given.contains(false) {
            throw ValidationError("--client-id, --client-secret and --redirect-uri go together")
        }
        if clientID == "" || clientSecret == "" { throw ValidationError("--client-id and --client-secret cannot be empty") }
        if tokenLifetime < 0 { throw ValidationError("--token-lifetime is seconds, zero or more") }
        if [rateLimit, inviteesLimit, tokenLimit].contains(where: { ($0 ?? 0) < 0 }) {
            throw ValidationError("--rate-limit, --invitees-limit and --token-limit are requests a minute, zero or more")
        }
    }

    func run() async throws {
        var seed = try StandInSeed.load(URL(fileURLWithPath: state))
        if let clientID, let clientSecret {
            seed.oauthApps = (seed.oauthApps ?? []).filter { $0.clientID != clientID }
                + [StandInSeed.OAuthApp(clientID: clientID, clientSecret: clientSecret, redirectURIs: redirectURI)]
        }
        if let rateLimit { seed.rateLimitPerMinute = rateLimit }
        if let inviteesLimit { seed.inviteesPerMinute = inviteesLimit }
        if let tokenLimit { seed.tokenPerMinute = tokenLimit }
        let app = CalendlyStandIn.buildApplication(seed: seed, port: port, accessTokenLifetime: tokenLifetime) { port in
            // Unbuffered, so a script reading a pipe sees it at once.
            FileHandle.standardOutput.write(Data("calendly stand-in listening on http://127.0.0.1:\(port)\n".utf8))
        }
        try await app.runService()
    }
}
