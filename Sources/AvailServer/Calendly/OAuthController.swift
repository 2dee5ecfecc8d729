import AvailClient
import AvailCore
import AvailStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// "Connect my Calendly account": OAuth 2 with PKCE (S256), per expert.
///
/// `GET /experts/{id}/calendly/authorize` (the expert, by session cookie or bearer token)
/// sends the browser to Calendly's authorize page with a `state` that works once, for this
/// expert and this browser (an `HttpOnly` cookie holds the browser's half; availd keeps only
/// its hash), for ten minutes. `GET /oauth/calendly/callback` exchanges the code with the
/// verifier, asks Calendly who the token's owner is, stores the tokens sealed (never in the
/// log), records `expert.calendly_account_connected`, and sends the browser back to the
/// settings page. Any failure is `oauth_failed` (an HTML page for a browser) and records nothing.
struct OAuthController: Sendable {
    let readModels: any ReadModelQueries
    let commands: Commands
    let connections: CalendlyConnections
    let subscriptions: CalendlySubscriptions
    let states: any OAuthStateStore
    let authentication: AuthenticationMiddleware
    let stateLifetime: Duration
    let logger: Logger
    /// One callback per Calendly user at a time, so two experts cannot both take one account.
    let connecting = KeyedLock()

    static let browserCookie = "availd_oauth_browser"
    /// The longest `code`, `state` or `error` a callback may carry (Calendly's are ~43).
    static let maximumParameterLength = 256

    func addRoutes(to router: Router<AvailRequestContext>) {
        router.get("/experts/:id/calendly/authorize") { request, context in try await self.authorize(request, context: context) }
        router.get("/oauth/calendly/callback") { request, _ in try await self.callback(request) }
    }

    func authorize(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let principal = try await self.principal(of: request)
        guard principal == .expert(id) else {
            if principal == .admin {
                throw Problem(
                    .forbidden, code: .forbidden,
                    detail: "an expert connects their own Calendly account: sign in as the expert, not the admin")
            }
            throw Problem(.forbidden, code: .forbidden, detail: "this token does not belong to expert \(id)")
        }
        guard let oauth = connections.oauth else { throw Self.notConfigured }
        guard try await readModels.expert(id: id) != nil else { throw Problem.notFound("no expert \(id)") }
        // The browser's half of the binding: kept if it has one, so flows in two tabs both work.
        let browser = request.cookies[Self.browserCookie]?.value.nonEmpty(minimumLength: 43) ?? Secret.generate()
        let state = Secret.generate()
        let verifier = PKCE.verifier()
        try await states.create(
            state: state,
            PendingAuthorization(
                expertID: id, browserHash: PKCE.hash(browser), verifier: verifier,
                expiresAt: Timestamp(microseconds: Timestamp.now().microseconds + stateLifetime.microseconds)))
        var response = Response(
            status: .found,
            headers: [.location: oauth.authorizeURL(state: state, codeChallenge: PKCE.challenge(for: verifier)), .cacheControl: "no-store"])
        // Lax: Calendly's redirect back is a top-level navigation from another site.
        response.setCookie(Cookie(
            name: Self.browserCookie, value: browser, maxAge: Int(stateLifetime.components.seconds), path: "/oauth/calendly",
            secure: WebSession.isHTTPS(request), httpOnly: true, sameSite: .lax))
        return response
    }

    func callback(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        do {
            let expertID = try await connect(
                state: query["state"].map(String.init), code: query["code"].map(String.init),
                error: query["error"].map(String.init), browser: request.cookies[Self.browserCookie]?.value)
            return Response(
                status: .found, headers: [.location: "/experts/\(expertID)/availability-settings", .cacheControl: "no-store"])
        } catch {
            guard let problem = Problem(refusal: error) else { throw error }
            logger.notice("calendly oauth failed", metadata: ["detail": "\(problem.detail)"])
            guard Self.wantsHTML(request) else { throw problem }
            return Self.page(problem)
        }
    }

    /// Every step of the callback; the expert it connected.
    private func connect(state: String?, code: String?, error: String?, browser: String?) async throws -> String {
        guard let oauth = connections.oauth else { throw Self.notConfigured }
        for (name, value) in [("state", state), ("code", code), ("error", error)] where (value?.count ?? 0) > Self.maximumParameterLength {
            throw Self.failed("the answer's \(name) is longer than \(Self.maximumParameterLength) characters; start again from your settings page")
        }
        guard let state, !state.isEmpty else { throw Self.failed("the answer from Calendly has no state; start again from your settings page") }
        // Taken (deleted) before anything else: a state works once, whatever happens next.
        guard let pending = try await states.take(state: state) else {
            throw Self.failed("this sign-in was already used or is unknown; start again from your settings page")
        }
        guard pending.expiresAt > .now() else { throw Self.failed("this sign-in expired (after 10 minutes); start again from your settings page") }
        guard let browser, Secret.constantTimeEquals(PKCE.hash(browser), pending.browserHash) else {
            throw Self.failed("this sign-in was started in another browser; start again from your settings page")
        }
        if let error {
            throw Self.failed(
                error == "access_denied" ? "you did not approve the connection at Calendly; nothing was connected"
                    : "Calendly refused the connection (\(error.prefix(100))); nothing was connected")
        }
        guard let code, !code.isEmpty else { throw Self.failed("the answer from Calendly has no code; start again from your settings page") }
        guard try await readModels.expert(id: pending.expertID) != nil else { throw Self.failed("expert \(pending.expertID) no longer exists") }

        let grant: CalendlyTokenGrant
        do {
            grant = try await oauth.exchange(code: code, verifier: pending.verifier)
        } catch .unavailable(let why) {
            throw Self.failed("Calendly could not be reached (\(why)); try again in a moment", status: .badGateway)
        } catch {
            throw Self.failed("Calendly refused the code (\(error)); start again from your settings page")
        }
        let tokens = CalendlyConnections.tokens(grant)
        do {
            try await record(grant, tokens: tokens, for: pending.expertID)
        } catch {
            // Nothing recorded: the grant is of no use to anyone.
            try? await oauth.revoke(grant.refreshToken)
            throw error
        }
        return pending.expertID
    }

    /// Who the token's owner is, checked with Calendly, then stored and recorded.
    private func record(_ grant: CalendlyTokenGrant, tokens: CalendlyTokens, for expertID: String) async throws {
        let me: CalendlyUser
        do {
            me = try await connections.client(tokens.accessToken).me()
        } catch {
            throw Self.failed("Calendly did not say whose account this is (\(error)); try again", status: .badGateway)
        }
        guard me.uri == grant.owner else { throw Self.failed("Calendly named two different owners for this token", status: .badGateway) }
        try await connecting.withLock(me.uri) {
            let holder = try await readModels.experts().values.first { $0.id != expertID && $0.calendlyAccount?.userURI == me.uri }
            if let holder {
                throw Self.failed(
                    "this Calendly account is already connected to another expert (\(holder.id)); disconnect it there first",
                    status: .conflict)
            }
            let previous = try await connections.credentials.load(expertID: expertID)
            try await connections.credentials.store(expertID: expertID, userURI: me.uri, tokens: tokens, at: .now())
            do {
                try await commands.record(.accountConnected(CalendlyAccountConnected(
                    expertID: expertID, userURI: me.uri, organizationURI: grant.organization ?? me.currentOrganization,
                    userEmail: me.email, userName: me.name, at: .now())))
            } catch {
                try? await connections.credentials.erase(expertID: expertID)
                throw error
            }
            // A reconnect to another account: the old grant is done with.
            if let previous, previous.tokens.refreshToken != tokens.refreshToken {
                try? await connections.oauth?.revoke(previous.tokens.refreshToken)
            }
        }
        logger.info("calendly account connected", metadata: ["expert": "\(expertID)", "user": "\(me.uri)"])
        // Without a subscription Calendly tells availd nothing of this account.
        await subscriptions.ensure(for: expertID)
    }

    private func principal(of request: Request) async throws -> Principal {
        if let bearer = request.bearerToken { return try await authentication.principal(for: bearer) }
        guard let session = request.cookies[WebSession.sessionCookie]?.value, !session.isEmpty else { throw Problem.unauthorized() }
        return try await authentication.principal(for: session)
    }

    static func failed(_ detail: String, status: HTTPResponse.Status = .badRequest) -> Problem {
        Problem(status, code: .oauthFailed, detail: detail)
    }

    static let notConfigured = Problem(
        .conflict, code: .oauthNotConfigured,
        detail: "this availd has no Calendly OAuth app: start it with --calendly-client-id and --calendly-client-secret")

    static func wantsHTML(_ request: Request) -> Bool {
        (request.headers[.accept] ?? "").contains("text/html")
    }

    /// The failure as a page a person can read, with the way back.
    static func page(_ problem: Problem) -> Response {
        let detail = HTML.escape(problem.detail)
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Calendly was not connected</title><link rel="stylesheet" href="/assets/settings.css"></head>
            <body><main class="page"><h1>Calendly was not connected</h1>
            <p id="oauth-error" data-code="\(problem.code.rawValue)">\(detail)</p>
            <p>Go back to your availability settings and try again.</p></main></body></html>
            """
        return Response(
            status: problem.status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

enum HTML {
    /// Text made safe inside an element or a quoted attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension String {
    /// Self, when at least `minimumLength` bytes long; else nil.
    func nonEmpty(minimumLength: Int) -> String? {
        utf8.count >= minimumLength ? self : nil
    }
}

extension Duration {
    var microseconds: Int64 {
        components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
    }
}
