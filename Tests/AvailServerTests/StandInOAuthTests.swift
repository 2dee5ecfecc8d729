import AvailClient
import AvailCore
import AvailTesting
import CalendlyStandIn
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Drives the stand-in's OAuth server over real HTTP, as an app and its user's browser would.
struct OAuthTestClient {
    let control: any TestClientProtocol

    static let clientID = "availd-demo"
    static let clientSecret = "availd-demo-secret"
    static let redirectURI = "http://127.0.0.1:8080/oauth/calendly/callback"
    /// A PKCE pair worked out apart from the stand-in: base64url(SHA-256(verifier)), no padding.
    static let verifier = "availd-stand-in-test-verifier-0123456789-abcdefghij~._"
    static let challenge = "hAUTNk5EEKuZ5mmzdUTRatHu8sMLkuyoOykxYsZxouw"
    static let marketplace = "https://api.calendly.com/organizations/561509c9-96dd-4445-989c-8a74f3088068"
    static let orbits = "https://api.calendly.com/organizations/f2408c66-a494-4c2c-8fa9-3d37e377ca3b"
    static let users = [
        "marketplace-admin": "https://api.calendly.com/users/ffd03ffd-c9f2-476c-aa8c-8a8e6237057a",
        "ada-lovelace": "https://api.calendly.com/users/fa34b458-2602-4848-90f7-32756ce929ac",
        "grace-hopper": "https://api.calendly.com/users/c44fbb8a-28b8-40b4-b9aa-e9d16159c8c1",
        "alan-turing": "https://api.calendly.com/users/e6a00efb-6c34-46ba-a458-3eda03109d5f",
        "katherine-johnson": "https://api.calendly.com/users/82503c79-59f8-4f90-ad25-729599adf738",
        "edsger-dijkstra": "https://api.calendly.com/users/72b011c9-558c-4841-9fb6-3d00c74a8fe5",
    ]

    struct Answer {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        var location: String? { headers[.location] }
        /// The redirect's query, decoded.
        var redirectQuery: [String: String] {
            let items = location.flatMap { URLComponents(string: $0)?.queryItems } ?? []
            return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
        }
    }

    static func encode(_ fields: [(String, String)]) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return fields.map { "\($0.addingPercentEncoding(withAllowedCharacters: unreserved)!)=\($1.addingPercentEncoding(withAllowedCharacters: unreserved)!)" }
            .joined(separator: "&")
    }

    func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String? = nil) async throws -> Answer {
        let response = try await control.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return Answer(status: response.status, headers: response.headers, text: String(buffer: response.body))
    }

    func post(_ path: String, _ fields: [(String, String)], headers: HTTPFields = [:]) async throws -> Answer {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(.post, path, headers: headers, body: Self.encode(fields))
    }

    static func authorizeFields(
        clientID: String = clientID, redirectURI: String = redirectURI, state: String? = "xyz", challenge: String? = challenge,
        method: String? = "S256", responseType: String = "code"
    ) -> [(String, String)] {
        var fields = [("client_id", clientID), ("response_type", responseType), ("redirect_uri", redirectURI)]
        if let challenge { fields.append(("code_challenge", challenge)) }
        if let method { fields.append(("code_challenge_method", method)) }
        if let state { fields.append(("state", state)) }
        return fields
    }

    func authorizePage(_ fields: [(String, String)] = authorizeFields()) async throws -> Answer {
        try await send(.get, "/oauth/authorize?\(Self.encode(fields))")
    }

    /// What the consent page's form sends when `user` presses `decision`.
    func decide(_ fields: [(String, String)] = authorizeFields(), decision: String = "approve", user: String = "ada-lovelace") async throws
        -> Answer
    {
        try await post("/oauth/authorize", fields + [("user", user), ("decision", decision)])
    }

    /// A code `user` approved, with the test PKCE challenge.
    func code(user: String = "ada-lovelace", _ fields: [(String, String)] = authorizeFields()) async throws -> String {
        let answer = try await decide(fields, user: user)
        #expect(answer.status == .found)
        return try #require(answer.redirectQuery["code"])
    }

    func token(_ fields: [(String, String)], secret: String = clientSecret) async throws -> Answer {
        try await post("/oauth/token", fields + [("client_id", Self.clientID), ("client_secret", secret)])
    }

    func exchange(_ code: String, verifier: String? = verifier, redirectURI: String = redirectURI) async throws -> Answer {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI)]
        if let verifier { fields.append(("code_verifier", verifier)) }
        return try await token(fields)
    }

    func refresh(_ token: String) async throws -> Answer {
        try await self.token([("grant_type", "refresh_token"), ("refresh_token", token)])
    }

    /// `user` connects the app: an access token and a refresh token.
    func connect(_ user: String = "ada-lovelace") async throws -> (access: String, refresh: String) {
        let answer = try await exchange(try await code(user: user))
        #expect(answer.status == .ok, "\(answer.text)")
        return (try #require(answer.json["access_token"] as? String), try #require(answer.json["refresh_token"] as? String))
    }

    func api(_ path: String, token: String) async throws -> Answer {
        try await api(.get, path, token: token)
    }

    func api(_ method: HTTPRequest.Method, _ path: String, token: String, json: String? = nil) async throws -> Answer {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if json != nil { headers[.contentType] = "application/json" }
        return try await send(method, path, headers: headers, body: json)
    }

    func sim(_ path: String, _ json: String) async throws -> HTTPResponse.Status {
        try await send(.post, path, headers: [.contentType: "application/json"], body: json).status
    }

    func grants() async throws -> [String: Int] {
        try await send(.get, "/_sim/oauth/grants").json as? [String: Int] ?? [:]
    }

    func issuedTokens() async throws -> [String] {
        try await send(.get, "/_sim/oauth/tokens").json["tokens"] as? [String] ?? []
    }
}

func withStandInOAuth(_ body: @Sendable (OAuthTestClient) async throws -> Void) async throws {
    try await withCalendly { _, control in try await body(OAuthTestClient(control: control)) }
}

@Suite struct StandInOAuthTests {
    typealias Client = OAuthTestClient

    // MARK: Authorize

    @Test func theAuthorizePageHasTheFormAndEscapesWhatItEchoes() async throws {
        try await withStandInOAuth { client in
            let page = try await client.authorizePage(Client.authorizeFields(state: #"<script>"x"&'y'</script>"#))
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("availd-demo"))
            #expect(page.text.contains(#"<form id="authorize" method="post" action="/oauth/authorize">"#))
            #expect(page.text.contains(#"<select id="user" name="user">"#))
            for slug in Client.users.keys { #expect(page.text.contains(#"<option value="\#(slug)">"#), "\(slug)") }
            #expect(page.text.contains("Ada Lovelace &lt;ada.lovelace@experts.example&gt;"))
            #expect(page.text.contains(#"<button id="approve" type="submit" name="decision" value="approve">Approve</button>"#))
            #expect(page.text.contains(#"<button id="deny" type="submit" name="decision" value="deny">Deny</button>"#))
            for (name, value) in Client.authorizeFields().dropLast() {
                #expect(page.text.contains(#"<input type="hidden" name="\#(name)" value="\#(value)">"#), "\(name)")
            }
            #expect(page.text.contains(#"<input type="hidden" name="state" value="&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;">"#))
            #expect(!page.text.contains("<script>"))
            // An echoed client_id is escaped too, on the error page.
            let error = try await client.authorizePage(Client.authorizeFields(clientID: "<b>evil</b>"))
            #expect(error.text.contains("&lt;b&gt;evil&lt;/b&gt;"))
            #expect(!error.text.contains("<b>evil"))
        }
    }

    @Test func anUnknownClientOrAnUnregisteredRedirectIs400AndNeverRedirects() async throws {
        try await withStandInOAuth { client in
            let refused: [[(String, String)]] = [
                Client.authorizeFields(clientID: "someone-else"),
                Client.authorizeFields().filter { $0.0 != "client_id" },
                Client.authorizeFields(redirectURI: "https://evil.example/callback"),
                Client.authorizeFields(redirectURI: Client.redirectURI + "/"),
                Client.authorizeFields(redirectURI: Client.redirectURI + "?x=1"),
                Client.authorizeFields(redirectURI: "http://127.0.0.1:8081/oauth/calendly/callback"),
                Client.authorizeFields().filter { $0.0 != "redirect_uri" },
                // Unknown client and a bad response_type: still no redirect.
                Client.authorizeFields(clientID: "someone-else", responseType: "token"),
            ]
            for fields in refused {
                for answer in [try await client.authorizePage(fields), try await client.decide(fields)] {
                    #expect(answer.status == .badRequest, "\(fields)")
                    #expect(answer.location == nil)
                    #expect(answer.headers[.contentType]?.hasPrefix("text/html") == true)
                }
            }
            // The consent form's own fields: a user or a decision the stand-in does not know.
            #expect(try await client.decide(user: "nobody").status == .badRequest)
            #expect(try await client.decide(decision: "maybe").status == .badRequest)
        }
    }

    @Test func aBadResponseTypeOrPKCEParameterRedirectsWithTheError() async throws {
        try await withStandInOAuth { client in
            for answer in [try await client.authorizePage(Client.authorizeFields(responseType: "token")), try await client.decide(Client.authorizeFields(responseType: "token"))] {
                #expect(answer.status == .found)
                #expect(answer.location == "\(Client.redirectURI)?error=unsupported_response_type&state=xyz")
            }
            let invalid: [[(String, String)]] = [
                Client.authorizeFields().filter { $0.0 != "response_type" },
                Client.authorizeFields(method: "S512"),
                Client.authorizeFields(challenge: nil, method: "S256"),
                Client.authorizeFields(challenge: "too-short"),
                Client.authorizeFields() + [("state", "again")],
            ]
            for fields in invalid {
                let answer = try await client.authorizePage(fields)
                #expect(answer.status == .found, "\(fields)")
                #expect(answer.redirectQuery["error"] == "invalid_request", "\(fields)")
            }
        }
    }

    @Test func approvingRedirectsWithACodeAndTheState() async throws {
        try await withStandInOAuth { client in
            let state = "a b&c=d/é+%"
            let approved = try await client.decide(Client.authorizeFields(state: state))
            #expect(approved.status == .found)
            let location = try #require(approved.location)
            #expect(location.hasPrefix(Client.redirectURI + "?code="))
            #expect(location.hasSuffix("&state=a%20b%26c%3Dd%2F%C3%A9%2B%25"))
            #expect(approved.redirectQuery["state"] == state)
            let code = try #require(approved.redirectQuery["code"])
            #expect(code.count >= 43)
            #expect(code.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            // No state asked, none given back; a redirect URI with a query gets `&code=`.
            #expect(try await client.decide(Client.authorizeFields(state: nil)).redirectQuery.keys.sorted() == ["code"])
            let withQuery = "http://127.0.0.1:9/callback?tenant=1"
            #expect(try await client.sim("/_sim/oauth/apps", #"{"client_id":"availd-demo","client_secret":"availd-demo-secret","redirect_uris":["\#(withQuery)"]}"#) == .noContent)
            let second = try await client.decide(Client.authorizeFields(redirectURI: withQuery))
            #expect(second.location?.hasPrefix(withQuery + "&code=") == true)
            #expect(try await client.exchange(try #require(second.redirectQuery["code"]), redirectURI: withQuery).status == .ok)
            #expect(try await client.authorizePage().status == .badRequest)  // replaced: the old redirect URI is gone
        }
    }

    @Test func denyingRedirectsWithAccessDenied() async throws {
        try await withStandInOAuth { client in
            let denied = try await client.decide(decision: "deny")
            #expect(denied.status == .found)
            #expect(denied.location == "\(Client.redirectURI)?error=access_denied&state=xyz")
            #expect(try await client.decide(Client.authorizeFields(state: nil), decision: "deny").location == "\(Client.redirectURI)?error=access_denied")
        }
    }

    // MARK: Token

    @Test func theTokenAnswerHasExactlyCalendlysKeys() async throws {
        try await withStandInOAuth { client in
            let before = Int(Date().timeIntervalSince1970)
            let answer = try await client.exchange(try await client.code())
            #expect(answer.status == .ok)
            #expect(answer.headers[.contentType] == "application/json")
            #expect(answer.headers[.cacheControl] == "no-store")
            let json = answer.json
            #expect(Set(json.keys) == ["token_type", "access_token", "refresh_token", "scope", "created_at", "expires_in", "owner", "organization"])
            #expect(json["token_type"] as? String == "Bearer")
            #expect(json["scope"] as? String == "default")
            #expect(json["expires_in"] as? Int == 7200)
            #expect(json["owner"] as? String == Client.users["ada-lovelace"])
            #expect(json["organization"] as? String == Client.marketplace)
            let createdAt = try #require(json["created_at"] as? Int)
            #expect(createdAt >= before && createdAt <= Int(Date().timeIntervalSince1970))
            // Integers, not floating point.
            #expect(answer.text.contains(#""created_at":\#(createdAt),"#))
            #expect(answer.text.contains(#""expires_in":7200,"#))
            for key in ["access_token", "refresh_token"] {
                let token = try #require(json[key] as? String)
                #expect(token.count >= 43)
                #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            }
            #expect(json["access_token"] as? String != json["refresh_token"] as? String)
        }
    }

    @Test func aCodeWorksOnceAndItsSecondUseRevokesWhatTheFirstGave() async throws {
        try await withStandInOAuth { client in
            let code = try await client.code()
            let first = try await client.exchange(code)
            #expect(first.status == .ok)
            let access = try #require(first.json["access_token"] as? String)
            let refresh = try #require(first.json["refresh_token"] as? String)
            let me = try await client.api("/users/me", token: access)
            #expect(me.status == .ok)
            #expect((me.json["resource"] as? [String: Any])?["slug"] as? String == "ada-lovelace")

            let second = try await client.exchange(code)
            #expect(second.status == .badRequest)
            #expect(second.json["error"] as? String == "invalid_grant")
            #expect(Set(second.json.keys) == ["error", "error_description"])
            #expect(try await client.api("/users/me", token: access).status == .unauthorized)
            #expect(try await client.refresh(refresh).json["error"] as? String == "invalid_grant")
            #expect(try await client.grants() == ["authorization_code": 1, "refresh_token": 0, "invalid_grant": 2])
        }
    }

    @Test func aWrongVerifierRedirectOrClientIsInvalidGrant() async throws {
        try await withStandInOAuth { client in
            let code = try await client.code()
            #expect(try await client.exchange(code, verifier: String(repeating: "a", count: 43)).json["error"] as? String == "invalid_grant")
            #expect(try await client.exchange(code, verifier: Client.challenge).json["error"] as? String == "invalid_grant")
            #expect(try await client.exchange(code, redirectURI: Client.redirectURI + "/").json["error"] as? String == "invalid_grant")
            // Another app cannot exchange Ada's code, even with its own credentials.
            #expect(try await client.sim("/_sim/oauth/apps", #"{"client_id":"other","client_secret":"other-secret","redirect_uris":["\#(Client.redirectURI)"]}"#) == .noContent)
            let other = try await client.post("/oauth/token", [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Client.redirectURI), ("code_verifier", Client.verifier),
                ("client_id", "other"), ("client_secret", "other-secret"),
            ])
            #expect(other.status == .badRequest)
            #expect(other.json["error"] as? String == "invalid_grant")
            #expect(try await client.exchange("no-such-code").json["error"] as? String == "invalid_grant")
            // Missing or malformed: invalid_request.
            #expect(try await client.exchange(code, verifier: nil).json["error"] as? String == "invalid_request")
            #expect(try await client.exchange(code, verifier: "short").json["error"] as? String == "invalid_request")
            // None of that used the code up.
            #expect(try await client.exchange(code).status == .ok)
            #expect(try await client.grants() == ["authorization_code": 1, "refresh_token": 0, "invalid_grant": 5])
        }
    }

    @Test func anExpiredCodeIsInvalidGrant() async throws {
        try await withStandInOAuth { client in
            #expect(try await client.sim("/_sim/oauth/settings", #"{"code_lifetime":0}"#) == .noContent)
            let answer = try await client.exchange(try await client.code())
            #expect(answer.status == .badRequest)
            #expect(answer.json["error"] as? String == "invalid_grant")
            #expect((answer.json["error_description"] as? String)?.contains("expired") == true)
        }
    }

    @Test func aPlainChallengeOrNoneAtAll() async throws {
        try await withStandInOAuth { client in
            // No method means plain (RFC 7636 §4.3): the verifier is the challenge.
            let plain = try await client.code(Client.authorizeFields(challenge: Client.verifier, method: nil))
            #expect(try await client.exchange(plain, verifier: Client.challenge).json["error"] as? String == "invalid_grant")
            #expect(try await client.exchange(plain, verifier: Client.verifier).status == .ok)
            // No challenge: no verifier, and one given is refused.
            let none = try await client.code(Client.authorizeFields(challenge: nil, method: nil))
            #expect(try await client.exchange(none).json["error"] as? String == "invalid_grant")
            #expect(try await client.exchange(none, verifier: nil).status == .ok)
        }
    }

    @Test func aBadClientIs401() async throws {
        try await withStandInOAuth { client in
            let code = try await client.code()
            let exchange = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Client.redirectURI), ("code_verifier", Client.verifier)]
            let basic = { (id: String, secret: String) -> HTTPFields in
                [.authorization: "Basic \(Data("\(id):\(secret)".utf8).base64EncodedString())"]
            }
            let refused = [
                try await client.token(exchange, secret: "wrong"),
                try await client.post("/oauth/token", exchange + [("client_id", "nobody"), ("client_secret", Client.clientSecret)]),
                try await client.post("/oauth/token", exchange),
                try await client.post("/oauth/token", exchange + [("client_id", Client.clientID)]),
                try await client.post("/oauth/token", exchange, headers: basic(Client.clientID, "wrong")),
                try await client.post("/oauth/token", exchange, headers: [.authorization: "Basic not base64!"]),
                try await client.post("/oauth/revoke", [("token", "x"), ("client_id", Client.clientID), ("client_secret", "wrong")]),
                try await client.post("/oauth/introspect", [("token", "x"), ("client_id", Client.clientID), ("client_secret", "wrong")]),
            ]
            for answer in refused {
                #expect(answer.status == .unauthorized)
                #expect(answer.json["error"] as? String == "invalid_client")
                #expect(Set(answer.json.keys) == ["error", "error_description"])
            }
            #expect(refused[4].headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            // Basic and a secret in the body both: one method only.
            let both = try await client.post("/oauth/token", exchange + [("client_secret", Client.clientSecret)], headers: basic(Client.clientID, Client.clientSecret))
            #expect(both.json["error"] as? String == "invalid_request")
            // HTTP Basic alone works.
            let good = try await client.post("/oauth/token", exchange, headers: basic(Client.clientID, Client.clientSecret))
            #expect(good.status == .ok)
        }
    }

    @Test func missingParametersAndOtherGrantTypes() async throws {
        try await withStandInOAuth { client in
            func error(_ answer: OAuthTestClient.Answer) -> String? {
                #expect(answer.status == .badRequest)
                return answer.json["error"] as? String
            }
            #expect(error(try await client.token([])) == "invalid_request")
            #expect(error(try await client.token([("grant_type", "password"), ("username", "a"), ("password", "b")])) == "unsupported_grant_type")
            #expect(error(try await client.token([("grant_type", "client_credentials")])) == "unsupported_grant_type")
            #expect(error(try await client.token([("grant_type", "authorization_code"), ("redirect_uri", Client.redirectURI)])) == "invalid_request")
            #expect(error(try await client.token([("grant_type", "authorization_code"), ("code", "x")])) == "invalid_request")
            #expect(error(try await client.token([("grant_type", "refresh_token")])) == "invalid_request")
            #expect(error(try await client.token([("grant_type", "refresh_token"), ("refresh_token", "")])) == "invalid_request")
            #expect(error(try await client.token([("grant_type", "refresh_token"), ("grant_type", "refresh_token"), ("refresh_token", "x")])) == "invalid_request")
            let json = try await client.send(
                .post, "/oauth/token", headers: [.contentType: "application/json"],
                body: #"{"grant_type":"refresh_token","refresh_token":"x","client_id":"availd-demo","client_secret":"availd-demo-secret"}"#)
            #expect(error(json) == "invalid_request")
            #expect(error(try await client.post("/oauth/revoke", [("client_id", Client.clientID), ("client_secret", Client.clientSecret)])) == "invalid_request")
            // `+` is a space and percent-escapes are decoded: a secret with both still matches.
            #expect(try await client.sim("/_sim/oauth/apps", #"{"client_id":"odd app","client_secret":"s+e c%r/et","redirect_uris":["\#(Client.redirectURI)"]}"#) == .noContent)
            let odd = try await client.send(
                .post, "/oauth/token", headers: [.contentType: "application/x-www-form-urlencoded; charset=utf-8"],
                body: "grant_type=refresh_token&refresh_token=x&client_id=odd+app&client_secret=s%2Be+c%25r%2Fet")
            #expect(odd.json["error"] as? String == "invalid_grant")
        }
    }

    @Test func aRefreshRotatesAndTheOldRefreshTokenFails() async throws {
        try await withStandInOAuth { client in
            let (access, refresh) = try await client.connect()
            let rotated = try await client.refresh(refresh)
            #expect(rotated.status == .ok)
            #expect(Set(rotated.json.keys) == ["token_type", "access_token", "refresh_token", "scope", "created_at", "expires_in", "owner", "organization"])
            let newAccess = try #require(rotated.json["access_token"] as? String)
            let newRefresh = try #require(rotated.json["refresh_token"] as? String)
            #expect(newAccess != access)
            #expect(newRefresh != refresh)
            #expect(rotated.json["owner"] as? String == Client.users["ada-lovelace"])

            let again = try await client.refresh(refresh)
            #expect(again.status == .badRequest)
            #expect(again.json["error"] as? String == "invalid_grant")
            // The old access token lives on until it expires; the new pair works.
            #expect(try await client.api("/users/me", token: access).status == .ok)
            #expect(try await client.api("/users/me", token: newAccess).status == .ok)
            let last = try await client.refresh(newRefresh)
            #expect(last.status == .ok)
            #expect(try await client.grants() == ["authorization_code": 1, "refresh_token": 2, "invalid_grant": 1])
            // Every token issued, in order, for tests that look for a leak.
            let lastPair = [last.json["access_token"] as? String ?? "", last.json["refresh_token"] as? String ?? ""]
            #expect(try await client.issuedTokens() == [access, refresh, newAccess, newRefresh] + lastPair)
        }
    }

    @Test func revokingEitherTokenRevokesBoth() async throws {
        try await withStandInOAuth { client in
            let credentials = [("client_id", Client.clientID), ("client_secret", Client.clientSecret)]
            let first = try await client.connect()
            let revoked = try await client.post("/oauth/revoke", [("token", first.access)] + credentials)
            #expect(revoked.status == .ok)
            #expect(revoked.text == "{}")
            #expect(try await client.api("/users/me", token: first.access).status == .unauthorized)
            #expect(try await client.refresh(first.refresh).json["error"] as? String == "invalid_grant")

            let second = try await client.connect()
            #expect(try await client.post("/oauth/revoke", [("token", second.refresh)] + credentials).status == .ok)
            #expect(try await client.api("/users/me", token: second.access).status == .unauthorized)
            #expect(try await client.refresh(second.refresh).json["error"] as? String == "invalid_grant")

            // Unknown, or revoked already: 200 all the same (RFC 7009).
            #expect(try await client.post("/oauth/revoke", [("token", "no-such-token")] + credentials).text == "{}")
            #expect(try await client.post("/oauth/revoke", [("token", second.refresh)] + credentials).status == .ok)
        }
    }

    @Test func introspectionTellsALiveTokenFromADeadOne() async throws {
        try await withStandInOAuth { client in
            let credentials = [("client_id", Client.clientID), ("client_secret", Client.clientSecret)]
            let (access, refresh) = try await client.connect("grace-hopper")
            for token in [access, refresh] {
                let live = try await client.post("/oauth/introspect", [("token", token)] + credentials)
                #expect(live.status == .ok)
                #expect(Set(live.json.keys) == ["active", "scope", "client_id", "token_type", "exp", "iat", "owner", "organization"])
                #expect(live.json["active"] as? Bool == true)
                #expect(live.json["client_id"] as? String == Client.clientID)
                #expect(live.json["token_type"] as? String == "Bearer")
                #expect(live.json["scope"] as? String == "default")
                #expect(live.json["owner"] as? String == Client.users["grace-hopper"])
                #expect(live.json["organization"] as? String == Client.marketplace)
                let iat = try #require(live.json["iat"] as? Int), exp = try #require(live.json["exp"] as? Int)
                #expect(exp - iat == 7200)
            }
            #expect(try await client.post("/oauth/introspect", [("token", "no-such-token")] + credentials).text == #"{"active":false}"#)
            // A static token is not an OAuth token.
            #expect(try await client.post("/oauth/introspect", [("token", "calendly-token-grace")] + credentials).text == #"{"active":false}"#)
            _ = try await client.post("/oauth/revoke", [("token", access)] + credentials)
            for token in [access, refresh] {
                #expect(try await client.post("/oauth/introspect", [("token", token)] + credentials).text == #"{"active":false}"#)
            }
        }
    }

    @Test func anExpiredAccessTokenIs401() async throws {
        try await withStandInOAuth { client in
            #expect(try await client.sim("/_sim/oauth/settings", #"{"access_token_lifetime":0}"#) == .noContent)
            let answer = try await client.exchange(try await client.code())
            #expect(answer.json["expires_in"] as? Int == 0)
            let access = try #require(answer.json["access_token"] as? String)
            let expired = try await client.api("/users/me", token: access)
            #expect(expired.status == .unauthorized)
            #expect(expired.text == #"{"message":"The access token is expired","title":"Unauthenticated"}"#)
            let invalid = try await client.api("/users/me", token: "no-such-token")
            #expect(invalid.text == #"{"message":"The access token is invalid","title":"Unauthenticated"}"#)
            // Its refresh token still gets a fresh one, living as long as now set.
            #expect(try await client.sim("/_sim/oauth/settings", #"{"access_token_lifetime":60}"#) == .noContent)
            let refreshed = try await client.refresh(try #require(answer.json["refresh_token"] as? String))
            #expect(refreshed.json["expires_in"] as? Int == 60)
            #expect(try await client.api("/users/me", token: try #require(refreshed.json["access_token"] as? String)).status == .ok)
            #expect(try await client.sim("/_sim/oauth/settings", #"{"access_token_lifetime":-1}"#) == .badRequest)
        }
    }

    @Test func revokingAUserEndsEveryGrantOfTheirs() async throws {
        try await withStandInOAuth { client in
            let ada = [try await client.connect(), try await client.connect()]
            let grace = try await client.connect("grace-hopper")
            let pending = try await client.code()
            #expect(try await client.sim("/_sim/oauth/revoke_user", #"{"user":"\#(Client.users["ada-lovelace"]!)"}"#) == .noContent)
            for tokens in ada {
                #expect(try await client.api("/users/me", token: tokens.access).status == .unauthorized)
                #expect(try await client.refresh(tokens.refresh).json["error"] as? String == "invalid_grant")
            }
            #expect(try await client.exchange(pending).json["error"] as? String == "invalid_grant")
            #expect(try await client.api("/users/me", token: grace.access).status == .ok)
            #expect(try await client.refresh(grace.refresh).status == .ok)
            #expect(try await client.sim("/_sim/oauth/revoke_user", #"{"user":"https://api.calendly.com/users/nobody"}"#) == .notFound)
        }
    }

    @Test func failuresAndCountsWorkOnTheTokenEndpoint() async throws {
        try await withStandInOAuth { client in
            let code = try await client.code()
            try await inject(#"[{"path":"/oauth/token","status":503,"times":1}]"#, client.control)
            #expect(try await client.exchange(code).status == .serviceUnavailable)
            #expect(try await client.exchange(code).status == .ok)
            #expect(try await requestCount("/oauth/token", client.control) == 2)
        }
    }

    @Test func anAppIsRegisteredOnlyWhole() async throws {
        try await withStandInOAuth { client in
            for body in [
                #"{"client_id":"","client_secret":"s","redirect_uris":["http://127.0.0.1:9/cb"]}"#,
                #"{"client_id":"a","client_secret":"s","redirect_uris":[]}"#,
                #"{"client_id":"a","client_secret":"s","redirect_uris":["not a url"]}"#,
                #"{"client_id":"a","client_secret":"s","redirect_uris":["http://127.0.0.1:9/cb#frag"]}"#,
                #"{"client_id":"a","redirect_uris":["http://127.0.0.1:9/cb"]}"#,
            ] {
                #expect(try await client.sim("/_sim/oauth/apps", body) == .badRequest, "\(body)")
            }
            // Replacing an app replaces its secret.
            #expect(try await client.sim("/_sim/oauth/apps", #"{"client_id":"availd-demo","client_secret":"new-secret","redirect_uris":["\#(Client.redirectURI)"]}"#) == .noContent)
            let code = try await client.code()
            let exchange = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Client.redirectURI), ("code_verifier", Client.verifier)]
            #expect(try await client.token(exchange).status == .unauthorized)
            #expect(try await client.token(exchange, secret: "new-secret").status == .ok)
        }
    }

    // MARK: Permissions

    static let adaThirty = "https://api.calendly.com/event_types/839a144c-94df-45bf-9708-62a6c496b3a5"
    static let graceSixty = "https://api.calendly.com/event_types/1d943767-b7f0-40f8-9907-8f434e9e2aae"
    static let quickCall = "https://api.calendly.com/event_types/eefc2a5b-76ff-4671-bb73-bc5bff1b4879"
    static let officeHours = "https://api.calendly.com/event_types/0b884857-5e21-4b0f-a670-bb83d251041f"
    static let denied = #"{"message":"You do not have permission to access this resource.","title":"Permission Denied"}"#

    static func uuid(_ uri: String) -> Substring { uri.split(separator: "/").last! }

    static func times(_ eventType: String) -> String {
        let monday = AvailabilityOverHTTPTests.monday
        return "/event_type_available_times?event_type=\(eventType)&start_time=\(monday)T00:00:00Z&end_time=\(monday.adding(days: 2))T00:00:00Z"
    }

    /// Books the first free slot of `eventType` with `token` (the slot found by its organization's owner).
    static func book(_ eventType: String, token: String, _ client: OAuthTestClient) async throws -> OAuthTestClient.Answer {
        let owner = [quickCall, officeHours].contains(eventType) ? "calendly-token-katherine" : "calendly-token-admin"
        let times = try await client.api(Self.times(eventType), token: owner)
        let slot = (times.json["collection"] as? [[String: Any]])?.first?["start_time"] as? String ?? "2030-01-07T15:00:00Z"
        return try await client.api(
            .post, "/invitees", token: token,
            json: #"{"event_type":"\#(eventType)","start_time":"\#(slot)","invitee":{"name":"K","email":"k@example.com"}}"#)
    }

    static func eventTypes(_ answer: OAuthTestClient.Answer) -> [String] {
        (answer.json["collection"] as? [[String: Any]] ?? []).compactMap { $0["uri"] as? String }
    }

    @Test func adasTokenActsOnlyOnHerOwnThings() async throws {
        try await withStandInOAuth { client in
            let ada = try await client.connect().access
            let me = try await client.api("/users/me", token: ada)
            #expect((me.json["resource"] as? [String: Any])?["current_organization"] as? String == Client.marketplace)
            #expect(Self.eventTypes(try await client.api("/event_types?user=\(Client.users["ada-lovelace"]!)", token: ada)).count == 2)
            for path in [
                "/event_types?user=\(Client.users["grace-hopper"]!)", "/event_types?organization=\(Client.marketplace)",
                "/event_types?user=\(Client.users["katherine-johnson"]!)", Self.times(Self.graceSixty),
            ] {
                let answer = try await client.api(path, token: ada)
                #expect(answer.status == .forbidden, "\(path)")
                #expect(answer.text == Self.denied, "\(path)")
            }
            #expect(try await client.api(Self.times(Self.adaThirty), token: ada).status == .ok)
            let booking = try await Self.book(Self.graceSixty, token: ada, client)
            #expect(booking.status == .forbidden)
            #expect(booking.text == Self.denied)

            // Grace's booking (made by the owner) is unknown to Ada: read, invitee, cancellation.
            let graces = try await Self.book(Self.graceSixty, token: "calendly-token-admin", client)
            #expect(graces.status == .created)
            let resource = try #require(graces.json["resource"] as? [String: Any])
            let event = String(try #require(resource["event"] as? String).dropFirst("https://api.calendly.com".count))
            let invitee = String(try #require(resource["uri"] as? String).dropFirst("https://api.calendly.com".count))
            #expect(try await client.api(event, token: ada).status == .notFound)
            #expect(try await client.api(invitee, token: ada).status == .notFound)
            let cancel = try await client.api(.post, "\(event)/cancellation", token: ada, json: "{}")
            #expect(cancel.status == .notFound)
            #expect(try await client.api(event, token: "calendly-token-grace").status == .ok)
            #expect(try await client.api(event, token: "calendly-token-alan").status == .notFound)

            // Her own booking she reads and cancels; canceled, a second cancel is Calendly's 403.
            let own = try await Self.book(Self.adaThirty, token: ada, client)
            #expect(own.status == .created)
            let ownEvent = String(try #require((own.json["resource"] as? [String: Any])?["event"] as? String).dropFirst("https://api.calendly.com".count))
            #expect(try await client.api(ownEvent, token: ada).status == .ok)
            #expect(try await client.api(.post, "\(ownEvent)/cancellation", token: ada, json: "{}").status == .created)
            #expect(try await client.api(.post, "\(ownEvent)/cancellation", token: ada, json: "{}").status == .forbidden)
            #expect(try await client.api(.post, "/scheduled_events/\(UUID().uuidString.lowercased())/cancellation", token: ada, json: "{}").status == .notFound)

            // Users: the same organization's, not another's.
            #expect(try await client.api("/users/\(Self.uuid(Client.users["grace-hopper"]!))", token: ada).status == .ok)
            #expect(try await client.api("/users/\(Self.uuid(Client.users["katherine-johnson"]!))", token: ada).status == .notFound)
        }
    }

    @Test func theOwnerActsOnTheWholeOrganizationAndNoOther() async throws {
        try await withStandInOAuth { client in
            let owner = try await client.connect("marketplace-admin").access
            #expect(Self.eventTypes(try await client.api("/event_types?organization=\(Client.marketplace)", token: owner)).count == 5)
            #expect(Self.eventTypes(try await client.api("/event_types?user=\(Client.users["grace-hopper"]!)", token: owner)).count == 2)
            #expect(try await client.api(Self.times(Self.graceSixty), token: owner).status == .ok)
            let booked = try await Self.book(Self.graceSixty, token: owner, client)
            #expect(booked.status == .created)
            let event = String(try #require((booked.json["resource"] as? [String: Any])?["event"] as? String).dropFirst("https://api.calendly.com".count))
            #expect(try await client.api(event, token: owner).status == .ok)
            #expect(try await client.api(.post, "\(event)/cancellation", token: owner, json: "{}").status == .created)

            for path in ["/event_types?user=\(Client.users["katherine-johnson"]!)", "/event_types?organization=\(Client.orbits)", Self.times(Self.quickCall)] {
                #expect(try await client.api(path, token: owner).text == Self.denied, "\(path)")
            }
            #expect(try await Self.book(Self.quickCall, token: owner, client).status == .forbidden)
            #expect(try await client.api("/users/\(Self.uuid(Client.users["katherine-johnson"]!))", token: owner).status == .notFound)
        }
    }

    @Test func katherinesTokenSeesOnlyHerOrganization() async throws {
        try await withStandInOAuth { client in
            let katherine = try await client.connect("katherine-johnson")
            let token = try await client.exchange(try await client.code(user: "katherine-johnson"))
            #expect(token.json["organization"] as? String == Client.orbits)
            #expect(token.json["owner"] as? String == Client.users["katherine-johnson"])
            let me = try #require(try await client.api("/users/me", token: katherine.access).json["resource"] as? [String: Any])
            #expect(me["current_organization"] as? String == Client.orbits)
            #expect(me["timezone"] as? String == "America/New_York")

            let types = Self.eventTypes(try await client.api("/event_types?organization=\(Client.orbits)", token: katherine.access))
            #expect(Set(types) == [Self.quickCall, "https://api.calendly.com/event_types/ff6defe4-fb60-4a69-9e85-9f167fd4855a", Self.officeHours])
            #expect(try await client.api("/event_types?organization=\(Client.marketplace)", token: katherine.access).status == .forbidden)
            #expect(try await client.api(Self.times(Self.adaThirty), token: katherine.access).status == .forbidden)
            #expect(try await client.api(Self.times(Self.officeHours), token: katherine.access).status == .ok)
            #expect(try await Self.book(Self.officeHours, token: katherine.access, client).status == .created)
            let edsger = try #require(try await client.api("/users/\(Self.uuid(Client.users["edsger-dijkstra"]!))", token: katherine.access).json["resource"] as? [String: Any])
            #expect(edsger["current_organization"] as? String == Client.orbits)
            #expect(try await client.api("/users/\(Self.uuid(Client.users["ada-lovelace"]!))", token: katherine.access).status == .notFound)

            // Edsger is a plain user of her organization: his own things only.
            let dijkstra = "calendly-token-edsger"
            #expect(Self.eventTypes(try await client.api("/event_types?user=\(Client.users["edsger-dijkstra"]!)", token: dijkstra)) == [Self.officeHours])
            #expect(try await client.api("/event_types?user=\(Client.users["katherine-johnson"]!)", token: dijkstra).status == .forbidden)
            #expect(try await client.api("/event_types?organization=\(Client.orbits)", token: dijkstra).status == .forbidden)
            #expect(try await client.api(Self.times(Self.quickCall), token: dijkstra).status == .forbidden)
        }
    }
}
