import Crypto
import Foundation

/// The stand-in's OAuth 2 authorization server, as Calendly documents
/// Calendly's: codes that live 10 minutes and work once, bound to the client, the redirect URI,
/// the PKCE challenge and the user; access tokens that live 2 hours; refresh tokens that work
/// once and rotate. A value type: `StandInState` keeps it behind a lock, and every method takes
/// `now`.
struct StandInOAuth: Sendable {
    static let defaultAccessTokenLifetime = 7200
    static let defaultCodeLifetime = 600

    /// An answer of the token endpoint that is not a success: RFC 6749 §5.2.
    struct Failure: Error, Equatable {
        var status: Int
        var error: String
        var description: String

        static func invalidGrant(_ description: String) -> Failure { Failure(status: 400, error: "invalid_grant", description: description) }
        static func invalidRequest(_ description: String) -> Failure { Failure(status: 400, error: "invalid_request", description: description) }
        static func invalidClient(_ description: String) -> Failure { Failure(status: 401, error: "invalid_client", description: description) }
    }

    /// What a successful grant gives: one access token and one refresh token.
    struct Issued: Sendable {
        var accessToken: String
        var refreshToken: String
        var createdAt: Int
        var expiresIn: Int
        var owner: String
        var organization: String
    }

    /// What introspection tells of a live token.
    struct Introspection: Sendable {
        var clientID: String
        var issuedAt: Int
        var expiresAt: Int
        var owner: String
        var organization: String
    }

    enum AccessCheck: Equatable {
        case live(user: String)
        case expired
        case invalid
    }

    struct Counts: Sendable {
        var authorizationCode = 0
        var refreshToken = 0
        var invalidGrant = 0
    }

    private struct Code {
        var clientID: String
        var redirectURI: String
        var challenge: String?
        var challengeMethod: String
        var user: String
        var organization: String
        var expires: Date
        /// The grant the code was exchanged for: set, the code is used.
        var grant: Int?
    }

    private struct Grant {
        var clientID: String
        var user: String
        var organization: String
        var revoked = false
    }

    private struct Token {
        var grant: Int
        var issued: Date
        /// When the access token issued together with this token expires.
        var accessExpires: Date
        /// A refresh token that was exchanged already.
        var used = false
    }

    private(set) var apps: [String: StandInSeed.OAuthApp] = [:]
    var accessTokenLifetime: Int
    var codeLifetime = Self.defaultCodeLifetime
    private(set) var counts = Counts()
    private var codes: [String: Code] = [:]
    private var grants: [Grant] = []
    private var accessTokens: [String: Token] = [:]
    private var refreshTokens: [String: Token] = [:]
    /// Every access and refresh token issued, in order: for tests that look for a leak.
    private(set) var issuedTokens: [String] = []

    init(apps: [StandInSeed.OAuthApp], accessTokenLifetime: Int = Self.defaultAccessTokenLifetime) {
        self.accessTokenLifetime = accessTokenLifetime
        for app in apps { register(app) }
    }

    /// Registers the app, or replaces the one with its client ID.
    mutating func register(_ app: StandInSeed.OAuthApp) {
        apps[app.clientID] = app
    }

    /// The app whose credentials these are; nil when there is none or the secret is wrong.
    func app(clientID: String, secret: String) -> StandInSeed.OAuthApp? {
        guard let app = apps[clientID], Self.constantTimeEqual(app.clientSecret, secret) else { return nil }
        return app
    }

    // MARK: Authorization codes

    /// A code for `user`, who approved `clientID`'s request.
    mutating func issueCode(
        clientID: String, redirectURI: String, challenge: String?, challengeMethod: String?, user: String, organization: String,
        now: Date
    ) -> String {
        // Codes long expired cannot be told from unknown ones any more: forget them.
        codes = codes.filter { $0.value.expires.addingTimeInterval(3600) > now }
        let code = Self.randomToken()
        codes[code] = Code(
            clientID: clientID, redirectURI: redirectURI, challenge: challenge, challengeMethod: challengeMethod ?? "plain", user: user,
            organization: organization, expires: now.addingTimeInterval(TimeInterval(codeLifetime)))
        return code
    }

    /// `grant_type=authorization_code`. A code used a second time also revokes what its first
    /// use gave (RFC 6749 §4.1.2).
    mutating func exchange(code: String, clientID: String, redirectURI: String, verifier: String?, now: Date) -> Result<Issued, Failure> {
        guard var found = codes[code] else { return fail(.invalidGrant("The authorization code is invalid")) }
        if let grant = found.grant {
            grants[grant].revoked = true
            return fail(.invalidGrant("The authorization code was already used; the tokens it gave are revoked"))
        }
        guard now < found.expires else { return fail(.invalidGrant("The authorization code is expired")) }
        guard found.clientID == clientID else { return fail(.invalidGrant("The authorization code was issued to another client")) }
        guard found.redirectURI == redirectURI else {
            return fail(.invalidGrant("The redirect_uri does not match the one the authorization code was issued for"))
        }
        switch (found.challenge, verifier) {
        case (nil, nil): break
        case (nil, .some): return fail(.invalidGrant("code_verifier was given but the authorization request had no code_challenge"))
        case (.some, nil): return .failure(.invalidRequest("code_verifier is required"))
        case (.some(let challenge), .some(let verifier)):
            guard Self.isPKCEValue(verifier) else {
                return .failure(.invalidRequest("code_verifier must be 43 to 128 characters: letters, digits, '-', '.', '_', '~'"))
            }
            let derived = found.challengeMethod == "S256" ? Self.s256(verifier) : verifier
            guard Self.constantTimeEqual(derived, challenge) else { return fail(.invalidGrant("The code_verifier does not match the code_challenge")) }
        }
        grants.append(Grant(clientID: clientID, user: found.user, organization: found.organization))
        found.grant = grants.count - 1
        codes[code] = found
        counts.authorizationCode += 1
        return .success(issue(grant: grants.count - 1, now: now))
    }

    // MARK: Refresh, revocation, introspection

    /// `grant_type=refresh_token`: the refresh token works once; the answer holds the next one.
    mutating func refresh(token: String, clientID: String, now: Date) -> Result<Issued, Failure> {
        guard var found = refreshTokens[token], grants[found.grant].clientID == clientID else {
            return fail(.invalidGrant("The refresh token is invalid"))
        }
        guard !grants[found.grant].revoked else { return fail(.invalidGrant("The refresh token is revoked")) }
        guard !found.used else { return fail(.invalidGrant("The refresh token was already used")) }
        found.used = true
        refreshTokens[token] = found
        counts.refreshToken += 1
        return .success(issue(grant: found.grant, now: now))
    }

    /// Revokes the grant the token (access or refresh) belongs to, both its tokens with it.
    /// A token unknown, or another client's, changes nothing (RFC 7009 answers 200 all the same).
    mutating func revoke(token: String, clientID: String) {
        guard let grant = (accessTokens[token] ?? refreshTokens[token])?.grant, grants[grant].clientID == clientID else { return }
        grants[grant].revoked = true
    }

    /// Revokes every grant of `user`, and forgets the codes not yet exchanged: as if they had
    /// removed the app in Calendly.
    mutating func revokeGrants(of user: String) {
        for index in grants.indices where grants[index].user == user { grants[index].revoked = true }
        codes = codes.filter { $0.value.user != user || $0.value.grant != nil }
    }

    /// A live access or refresh token of `clientID`; nil for anything else.
    func introspect(token: String, clientID: String, now: Date) -> Introspection? {
        let live: Token?
        if let access = accessTokens[token] {
            live = now < access.accessExpires ? access : nil
        } else if let refresh = refreshTokens[token] {
            live = refresh.used ? nil : refresh
        } else {
            live = nil
        }
        guard let live, !grants[live.grant].revoked, grants[live.grant].clientID == clientID else { return nil }
        let grant = grants[live.grant]
        return Introspection(
            clientID: clientID, issuedAt: Int(live.issued.timeIntervalSince1970), expiresAt: Int(live.accessExpires.timeIntervalSince1970),
            owner: grant.user, organization: grant.organization)
    }

    /// The user a code or refresh token is for, if it is known.
    func user(code: String?, refreshToken: String?) -> String? {
        if let code, let found = codes[code] { return found.user }
        if let refreshToken, let found = refreshTokens[refreshToken] { return grants[found.grant].user }
        return nil
    }

    /// The client an access token was issued to.
    func accessTokenClient(_ token: String) -> String? {
        accessTokens[token].map { grants[$0.grant].clientID }
    }

    /// The user an access token acts as, if it is neither expired nor revoked.
    func accessTokenUser(_ token: String, now: Date) -> AccessCheck {
        guard let access = accessTokens[token], !grants[access.grant].revoked else { return .invalid }
        return now < access.accessExpires ? .live(user: grants[access.grant].user) : .expired
    }

    // MARK: Helpers

    private mutating func issue(grant: Int, now: Date) -> Issued {
        let lifetime = accessTokenLifetime
        let token = Token(grant: grant, issued: now, accessExpires: now.addingTimeInterval(TimeInterval(lifetime)))
        let access = Self.randomToken(), refresh = Self.randomToken()
        accessTokens[access] = token
        refreshTokens[refresh] = token
        issuedTokens += [access, refresh]
        return Issued(
            accessToken: access, refreshToken: refresh, createdAt: Int(now.timeIntervalSince1970), expiresIn: lifetime,
            owner: grants[grant].user, organization: grants[grant].organization)
    }

    private mutating func fail(_ failure: Failure) -> Result<Issued, Failure> {
        if failure.error == "invalid_grant" { counts.invalidGrant += 1 }
        return .failure(failure)
    }

    /// 32 random bytes, base64url without padding: codes and tokens alike.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
    static func s256(_ verifier: String) -> String {
        base64URL(Array(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A code verifier or challenge (RFC 7636 §4.1): 43 to 128 unreserved characters.
    static func isPKCEValue(_ value: String) -> Bool {
        (43...128).contains(value.utf8.count)
            && value.utf8.allSatisfy { byte in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "-._~".utf8.contains(byte)
            }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8), b = Array(b.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
