import AvailClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/oauth/authorize`, `/oauth/token`, `/oauth/revoke` and `/oauth/introspect` (Calendly serves
/// them on `auth.calendly.com`; the stand-in on its one port), and their test controls under
/// `/_sim/oauth`.
extension CalendlyStandIn {
    static func addOAuthRoutes(to router: Router<BasicRequestContext>, state: StandInState) {
        router.get("/oauth/authorize") { request, _ -> Response in
            guard let form = StandInForm(request.uri.query ?? "") else {
                return StandInAuthorizePage.response(.badRequest, StandInAuthorizePage.error("The query is not valid percent-encoded UTF-8"))
            }
            switch checkAuthorization(form, state) {
            case .refuse(let message): return StandInAuthorizePage.response(.badRequest, StandInAuthorizePage.error(message))
            case .redirect(let location): return redirect(location)
            case .valid(let authorization):
                let parameters = form.fields.filter { $0.name != "user" && $0.name != "decision" }
                return StandInAuthorizePage.response(
                    .ok, StandInAuthorizePage.consent(clientID: authorization.clientID, members: state.members, parameters: parameters))
            }
        }
        router.post("/oauth/authorize") { request, context -> Response in
            guard isForm(request), let form = StandInForm(try await bodyText(request, context)) else {
                return StandInAuthorizePage.response(
                    .badRequest, StandInAuthorizePage.error("The form must be application/x-www-form-urlencoded"))
            }
            let authorization: AuthorizationRequest
            switch checkAuthorization(form, state) {
            case .refuse(let message): return StandInAuthorizePage.response(.badRequest, StandInAuthorizePage.error(message))
            case .redirect(let location): return redirect(location)
            case .valid(let valid): authorization = valid
            }
            switch form["decision"] {
            case "deny":
                return redirect(authorization.redirectURL(["error": "access_denied"]))
            case "approve":
                guard let slug = form["user"], let member = state.member(slug: slug) else {
                    return StandInAuthorizePage.response(.badRequest, StandInAuthorizePage.error("No such user: \(form["user"] ?? "none chosen")"))
                }
                let code = state.withOAuth {
                    $0.issueCode(
                        clientID: authorization.clientID, redirectURI: authorization.redirectURI, challenge: authorization.challenge,
                        challengeMethod: authorization.challengeMethod, user: member.user.uri, organization: member.organization, now: Date())
                }
                return redirect(authorization.redirectURL(["code": code]))
            default:
                return StandInAuthorizePage.response(.badRequest, StandInAuthorizePage.error("The decision must be approve or deny"))
            }
        }
        router.post("/oauth/token") { request, context -> Response in
            let form = try await oauthForm(request, context)
            let app = try authenticateClient(request, form, state)
            // At most 8 a minute per user: the user of the code or refresh token, or, for one
            // that is unknown, the client.
            let user = state.withOAuth { $0.user(code: form["code"], refreshToken: form["refresh_token"]) } ?? "client \(app.clientID)"
            let verdict = state.rateLimits.take(.token, user)
            guard verdict.allowed else {
                // Calendly's documentation gives the token endpoint's errors as `{error, error_description}`
                // and no code for this one: `rate_limited`, with the headers the API sends.
                throw OAuthError(
                    .init(status: 429, error: "rate_limited", description: "Too many token requests. Try again in \(verdict.reset) seconds."),
                    headers: verdict.headers)
            }
            let result: Result<StandInOAuth.Issued, StandInOAuth.Failure>
            switch form["grant_type"] {
            case nil:
                throw OAuthError(.invalidRequest("grant_type is required"))
            case "authorization_code":
                guard let code = form["code"], let redirectURI = form["redirect_uri"] else {
                    throw OAuthError(.invalidRequest("code and redirect_uri are required"))
                }
                result = state.withOAuth {
                    $0.exchange(code: code, clientID: app.clientID, redirectURI: redirectURI, verifier: form["code_verifier"], now: Date())
                }
            case "refresh_token":
                guard let token = form["refresh_token"] else { throw OAuthError(.invalidRequest("refresh_token is required")) }
                result = state.withOAuth { $0.refresh(token: token, clientID: app.clientID, now: Date()) }
            case let other?:
                throw OAuthError(.init(status: 400, error: "unsupported_grant_type", description: "The grant type \(other) is not supported"))
            }
            let issued = try result.mapError { OAuthError($0) }.get()
            return try oauthJSON([
                "token_type": "Bearer", "access_token": issued.accessToken, "refresh_token": issued.refreshToken, "scope": "default",
                "created_at": issued.createdAt, "expires_in": issued.expiresIn, "owner": issued.owner,
                "organization": issued.organization,
            ])
        }
        router.post("/oauth/revoke") { request, context -> Response in
            let form = try await oauthForm(request, context)
            let app = try authenticateClient(request, form, state)
            guard let token = form["token"] else { throw OAuthError(.invalidRequest("token is required")) }
            state.withOAuth { $0.revoke(token: token, clientID: app.clientID) }
            return try oauthJSON([:])
        }
        router.post("/oauth/introspect") { request, context -> Response in
            let form = try await oauthForm(request, context)
            let app = try authenticateClient(request, form, state)
            guard let token = form["token"] else { throw OAuthError(.invalidRequest("token is required")) }
            guard let live = state.withOAuth({ $0.introspect(token: token, clientID: app.clientID, now: Date()) }) else {
                return try oauthJSON(["active": false])
            }
            return try oauthJSON([
                "active": true, "scope": "default", "client_id": live.clientID, "token_type": "Bearer", "exp": live.expiresAt,
                "iat": live.issuedAt, "owner": live.owner, "organization": live.organization,
            ])
        }
        addOAuthControls(to: router, state: state)
    }

    /// `/_sim/oauth/*`: never part of Calendly.
    static func addOAuthControls(to router: Router<BasicRequestContext>, state: StandInState) {
        router.post("/_sim/oauth/apps") { request, context -> HTTPResponse.Status in
            let app = try await request.decode(as: StandInSeed.OAuthApp.self, context: context)
            let redirectsAreURLs = app.redirectURIs.allSatisfy { uri in
                URLComponents(string: uri).map { $0.scheme != nil && $0.host != nil && $0.fragment == nil } ?? false
            }
            guard !app.clientID.isEmpty, !app.clientSecret.isEmpty, !app.redirectURIs.isEmpty, redirectsAreURLs else {
                throw HTTPError(.badRequest, message: "client_id, client_secret and redirect_uris (absolute, without a fragment) are required")
            }
            state.withOAuth { $0.register(app) }
            return .noContent
        }
        router.post("/_sim/oauth/settings") { request, context -> HTTPResponse.Status in
            let settings = try await request.decode(as: OAuthSettings.self, context: context)
            guard (settings.accessTokenLifetime ?? 0) >= 0, (settings.codeLifetime ?? 0) >= 0 else {
                throw HTTPError(.badRequest, message: "Lifetimes are seconds, zero or more")
            }
            state.withOAuth { oauth in
                if let lifetime = settings.accessTokenLifetime { oauth.accessTokenLifetime = lifetime }
                if let lifetime = settings.codeLifetime { oauth.codeLifetime = lifetime }
            }
            return .noContent
        }
        router.post("/_sim/oauth/revoke_user") { request, context -> HTTPResponse.Status in
            let body = try await request.decode(as: RevokeUser.self, context: context)
            guard state.member(uri: body.user) != nil else { throw HTTPError(.notFound, message: "No such user: \(body.user)") }
            state.withOAuth { $0.revokeGrants(of: body.user) }
            return .noContent
        }
        router.get("/_sim/oauth/grants") { _, _ -> Response in
            let counts = state.withOAuth { $0.counts }
            return try json(["authorization_code": counts.authorizationCode, "refresh_token": counts.refreshToken, "invalid_grant": counts.invalidGrant])
        }
        router.get("/_sim/oauth/tokens") { _, _ -> Response in
            try json(["tokens": state.withOAuth { $0.issuedTokens }])
        }
    }

    struct OAuthSettings: Decodable {
        var accessTokenLifetime: Int?
        /// Seconds an authorization code lives (600): a seam for the expired-code test.
        var codeLifetime: Int?

        enum CodingKeys: String, CodingKey {
            case accessTokenLifetime = "access_token_lifetime", codeLifetime = "code_lifetime"
        }
    }

    struct RevokeUser: Decodable {
        var user: String
    }

    // MARK: The authorization request

    struct AuthorizationRequest {
        var clientID: String
        var redirectURI: String
        var state: String?
        var challenge: String?
        var challengeMethod: String?

        /// The redirect URI with `parameters` and the request's `state` (if it had one).
        func redirectURL(_ parameters: KeyValuePairs<String, String>) -> String {
            StandInForm.url(redirectURI, adding: parameters.map { ($0.key, $0.value) } + (state.map { [("state", $0)] } ?? []))
        }
    }

    enum AuthorizationCheck {
        /// Not redirected back: an error page (RFC 6749 §4.1.2.1).
        case refuse(String)
        case redirect(String)
        case valid(AuthorizationRequest)
    }

    /// The client and its redirect URI first: until both are known good, nothing is redirected.
    static func checkAuthorization(_ form: StandInForm, _ state: StandInState) -> AuthorizationCheck {
        let repeated = form.repeated
        guard !repeated.contains("client_id"), let clientID = form["client_id"], let app = state.withOAuth({ $0.apps[clientID] }) else {
            return .refuse("Unknown client_id: \(form["client_id"] ?? "none given")")
        }
        guard !repeated.contains("redirect_uri"), let redirectURI = form["redirect_uri"], app.redirectURIs.contains(redirectURI) else {
            return .refuse("The redirect_uri \(form["redirect_uri"] ?? "(none given)") is not registered for \(clientID)")
        }
        let authorization = AuthorizationRequest(
            clientID: clientID, redirectURI: redirectURI, state: form["state"], challenge: form["code_challenge"],
            challengeMethod: form["code_challenge_method"])
        func error(_ code: String) -> AuthorizationCheck { .redirect(authorization.redirectURL(["error": code])) }
        guard repeated.isEmpty else { return error("invalid_request") }
        guard let responseType = form["response_type"] else { return error("invalid_request") }
        guard responseType == "code" else { return error("unsupported_response_type") }
        if let method = authorization.challengeMethod {
            guard authorization.challenge != nil, method == "S256" || method == "plain" else { return error("invalid_request") }
        }
        if let challenge = authorization.challenge {
            // An S256 challenge is a base64url SHA-256: 43 characters.
            guard StandInOAuth.isPKCEValue(challenge), authorization.challengeMethod != "S256" || challenge.utf8.count == 43 else {
                return error("invalid_request")
            }
        }
        return .valid(authorization)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    // MARK: Token endpoint plumbing

    static func isForm(_ request: Request) -> Bool {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        return type == "application/x-www-form-urlencoded"
    }

    static func bodyText(_ request: Request, _ context: BasicRequestContext) async throws -> String {
        String(buffer: try await request.body.collect(upTo: context.maxUploadSize))
    }

    /// The form of a token, revoke or introspect request; `invalid_request` if it is not one,
    /// or names a parameter twice.
    static func oauthForm(_ request: Request, _ context: BasicRequestContext) async throws -> StandInForm {
        guard isForm(request) else { throw OAuthError(.invalidRequest("The body must be application/x-www-form-urlencoded")) }
        guard let form = StandInForm(try await bodyText(request, context)) else {
            throw OAuthError(.invalidRequest("The body is not valid percent-encoded UTF-8"))
        }
        if let name = form.repeated.first { throw OAuthError(.invalidRequest("\(name) is given more than once")) }
        return form
    }

    /// The client, by `client_id` and `client_secret` in the body or by HTTP Basic (RFC 6749
    /// §2.3.1), not both.
    static func authenticateClient(_ request: Request, _ form: StandInForm, _ state: StandInState) throws -> StandInSeed.OAuthApp {
        var clientID = form["client_id"], secret = form["client_secret"], basic = false
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic ") {
            basic = true
            guard secret == nil else { throw OAuthError(.invalidRequest("Use one client authentication method, not two")) }
            let encoded = header.dropFirst("basic ".count).trimmingCharacters(in: .whitespaces)
            guard let decoded = Data(base64Encoded: encoded).flatMap({ String(data: $0, encoding: .utf8) }),
                let colon = decoded.firstIndex(of: ":"),
                let id = StandInForm.component(decoded[..<colon]), let password = StandInForm.component(decoded[decoded.index(after: colon)...]),
                clientID == nil || clientID == id
            else { throw OAuthError(.invalidClient("Client authentication failed"), basic: true) }
            clientID = id
            secret = password
        }
        guard let clientID, let secret, let app = state.withOAuth({ $0.app(clientID: clientID, secret: secret) }) else {
            throw OAuthError(.invalidClient("Client authentication failed"), basic: basic)
        }
        return app
    }

    /// JSON with `Cache-Control: no-store` (RFC 6749 §5.1).
    static func oauthJSON(_ object: StandInShapes.Object) throws -> Response {
        var response = try json(object)
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("Pragma")!] = "no-cache"
        return response
    }
}

/// An OAuth error answer: `{error, error_description}` (RFC 6749 §5.2).
struct OAuthError: HTTPResponseError {
    var failure: StandInOAuth.Failure
    var basic = false
    var headers: HTTPFields = [:]

    init(_ failure: StandInOAuth.Failure, basic: Bool = false, headers: HTTPFields = [:]) {
        self.failure = failure
        self.basic = basic
        self.headers = headers
    }

    var status: HTTPResponse.Status { HTTPResponse.Status(code: failure.status) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try CalendlyStandIn.oauthJSON(["error": failure.error, "error_description": failure.description])
        response.status = status
        response.headers.append(contentsOf: headers)
        // RFC 6749 §5.2: a client that tried HTTP Basic is told which scheme to use.
        if basic { response.headers[.wwwAuthenticate] = #"Basic realm="Calendly stand-in""# }
        return response
    }
}
