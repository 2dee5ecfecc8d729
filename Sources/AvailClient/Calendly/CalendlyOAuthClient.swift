import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Calendly's OAuth 2 server (`https://auth.calendly.com`) for one app: the authorize URL
/// (PKCE, S256), the code exchange, refreshes and revocation. Form-encoded, the client's
/// credentials in the body, as Calendly documents it.
///
/// A token request is never retried: a code works once and a refresh token rotates, so a
/// second attempt after a lost answer would fail (`invalid_grant`) or worse. The caller reads
/// what is stored and decides.
public struct CalendlyOAuthClient: Sendable {
    public let authURL: String
    public let clientID: String
    let clientSecret: String
    public let redirectURI: String
    public let client: HTTPClient
    public var timeout: Duration = .seconds(10)
    /// Told of every answer (`nil`: no answer) with the endpoint (`/oauth/token`).
    public var observe: (@Sendable (_ endpoint: String, _ status: Int?) -> Void)?

    public init(authURL: String, clientID: String, clientSecret: String, redirectURI: String, client: HTTPClient = .shared) {
        var base = authURL
        while base.hasSuffix("/") { base.removeLast() }
        self.authURL = base
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.client = client
    }

    /// Where the browser goes to approve: `{auth}/oauth/authorize?…`.
    public func authorizeURL(state: String, codeChallenge: String) -> String {
        authURL + "/oauth/authorize?" + Self.form([
            ("client_id", clientID), ("response_type", "code"), ("redirect_uri", redirectURI),
            ("code_challenge", codeChallenge), ("code_challenge_method", "S256"), ("state", state),
        ])
    }

    /// `grant_type=authorization_code`, with the PKCE verifier.
    public func exchange(code: String, verifier: String) async throws(CalendlyOAuthError) -> CalendlyTokenGrant {
        try await token([
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier),
        ])
    }

    /// `grant_type=refresh_token`: the answer holds the next refresh token; this one is spent.
    public func refresh(_ refreshToken: String) async throws(CalendlyOAuthError) -> CalendlyTokenGrant {
        try await token([("grant_type", "refresh_token"), ("refresh_token", refreshToken)])
    }

    /// `POST /oauth/revoke`: the whole grant stops working.
    public func revoke(_ token: String) async throws(CalendlyOAuthError) {
        let (status, body) = try await post("/oauth/revoke", [("token", token)])
        guard status == 200 else { throw Self.refusal(status, body) }
    }

    private func token(_ parameters: [(String, String)]) async throws(CalendlyOAuthError) -> CalendlyTokenGrant {
        let (status, body) = try await post("/oauth/token", parameters)
        guard status == 200 else { throw Self.refusal(status, body) }
        let grant: CalendlyTokenGrant
        do {
            grant = try JSONDecoder().decode(CalendlyTokenGrant.self, from: body)
        } catch {
            throw .unexpected("the token answer does not decode: \(error)")
        }
        guard grant.tokenType.caseInsensitiveCompare("Bearer") == .orderedSame, !grant.accessToken.isEmpty, !grant.refreshToken.isEmpty
        else { throw .unexpected("the token answer holds no bearer token pair") }
        guard grant.expiresIn > 0 else { throw .unexpected("the token answer's expires_in is \(grant.expiresIn)") }
        return grant
    }

    private func post(_ path: String, _ parameters: [(String, String)]) async throws(CalendlyOAuthError) -> (Int, Data) {
        var request = HTTPClientRequest(url: authURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let body = Self.form(parameters + [("client_id", clientID), ("client_secret", clientSecret)])
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await client.execute(request, timeout: .init(timeout))
            let bytes = Data((try await response.body.collect(upTo: 1 << 20)).readableBytesView)
            observe?(path, Int(response.status.code))
            return (Int(response.status.code), bytes)
        } catch {
            observe?(path, nil)
            throw .unavailable("\(error)")
        }
    }

    static func refusal(_ status: Int, _ body: Data) -> CalendlyOAuthError {
        let answer = try? JSONDecoder().decode(OAuthErrorBody.self, from: body)
        let description = answer.map { "\($0.error)\($0.errorDescription.map { ": \($0)" } ?? "")" } ?? "HTTP \(status)"
        if answer?.error == "invalid_grant" { return .invalidGrant(description) }
        if status >= 500 || status == 429 { return .unavailable(description) }
        return .refused(status: status, description)
    }

    /// `application/x-www-form-urlencoded`, every byte outside the unreserved set escaped.
    static func form(_ parameters: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return parameters.map { key, value in
            "\(key.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }

    struct OAuthErrorBody: Decodable {
        var error: String
        var errorDescription: String?
        enum CodingKeys: String, CodingKey {
            case error
            case errorDescription = "error_description"
        }
    }
}

/// `POST /oauth/token`'s answer.
public struct CalendlyTokenGrant: Decodable, Sendable {
    public var tokenType: String
    public var accessToken: String
    public var refreshToken: String
    public var expiresIn: Int
    /// Unix seconds.
    public var createdAt: Int64?
    /// The user the token acts as.
    public var owner: String
    public var organization: String?

    enum CodingKeys: String, CodingKey {
        case owner, organization
        case tokenType = "token_type", accessToken = "access_token", refreshToken = "refresh_token"
        case expiresIn = "expires_in", createdAt = "created_at"
    }
}

public enum CalendlyOAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The code or refresh token is spent, expired or revoked: the expert must connect again.
    case invalidGrant(String)
    /// Calendly could not be reached, or failed (5xx, 429).
    case unavailable(String)
    case refused(status: Int, String)
    case unexpected(String)

    public var description: String {
        switch self {
        case .invalidGrant(let why): "Calendly refused the grant (\(why))"
        case .unavailable(let why): "Calendly's OAuth server is unavailable: \(why)"
        case .refused(let status, let why): "Calendly's OAuth server refused the request (\(status)): \(why)"
        case .unexpected(let why): "Calendly's OAuth server answered unexpectedly: \(why)"
        }
    }
}
