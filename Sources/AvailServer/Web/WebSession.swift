import AvailCore
import Foundation
import HTTPTypes
import Hummingbird

/// The settings page's sign-in: the expert's token in an `HttpOnly`, `SameSite=Lax` cookie,
/// and a CSRF token both in a cookie and in the page, which every change must send back
/// (double submit, compared in constant time). The JSON API takes the session cookie in place
/// of a bearer token, with the CSRF token in `X-CSRF-Token` for anything but a read.
enum WebSession {
    static let sessionCookie = "availd_session"
    static let csrfCookie = "availd_csrf"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    /// The session cookie that signs in with `token`; `Secure` when the request came over
    /// HTTPS through a proxy (`X-Forwarded-Proto: https`), so the browser never sends it in clear.
    ///
    /// `Lax`, not `Strict`: coming back from Calendly's authorize page is a navigation that
    /// another site started, and a `Strict` cookie would not come along, so the expert would
    /// land signed out. `Lax` is still never sent with another site's POST or fetch, and every
    /// change needs the CSRF token besides.
    static func signIn(_ token: String, for request: Request) -> Cookie {
        Cookie(name: sessionCookie, value: token, path: "/", secure: isHTTPS(request), httpOnly: true, sameSite: .lax)
    }

    static func isHTTPS(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// The cookie that signs out (expired at once).
    static var signOut: Cookie {
        Cookie(name: sessionCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .lax)
    }

    /// The browser's CSRF token: the one its cookie holds, or a new one to set.
    static func csrfToken(of request: Request) -> (token: String, cookie: Cookie?) {
        if let existing = request.cookies[csrfCookie]?.value, existing.utf8.count == 43 { return (existing, nil) }
        let token = Secret.generate()
        return (token, Cookie(name: csrfCookie, value: token, path: "/", secure: isHTTPS(request), httpOnly: true, sameSite: .lax))
    }

    /// Refuses a change whose CSRF token (form field or header) is not the cookie's.
    static func checkCSRF(_ request: Request, presented: String?) throws {
        guard let expected = request.cookies[csrfCookie]?.value, let presented,
              !expected.isEmpty, Secret.constantTimeEquals(presented, expected)
        else {
            throw Problem(.forbidden, code: .csrfFailed, detail: "the request did not carry this page's CSRF token; reload the page")
        }
    }
}

extension HTTPRequest.Method {
    /// GET, HEAD, OPTIONS: a request that changes nothing needs no CSRF token.
    var isSafe: Bool { self == .get || self == .head || self == .options }
}
