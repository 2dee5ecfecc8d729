import AsyncHTTPClient
import AvailClient
import AvailCore
import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

/// The settings page over HTTP: sign-in, the cookie, CSRF, who sees what, the live stream.
/// (The page in a real browser is `make test`'s Chromium run, `Tests/browser`.)
@Suite struct SettingsPageTests {
    /// A browser: keeps cookies, sends what a form or the page's script would.
    final class Browser: @unchecked Sendable {
        let base: String
        var cookies: [String: String] = [:]

        init(port: Int) { base = "http://127.0.0.1:\(port)" }

        /// Like a browser's fetch with `redirect: "manual"`: the 303 and its cookies are seen.
        static let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(redirectConfiguration: .disallow))

        struct Page {
            var status: Int
            var headers: HTTPHeaders
            var text: String
        }

        func request(_ method: HTTPMethod, _ path: String, form: [String: String]? = nil, json: String? = nil,
                     headers extra: [String: String] = [:]) async throws -> Page {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            if !cookies.isEmpty { request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
            for (name, value) in extra { request.headers.add(name: name, value: value) }
            if let form {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                let encoded = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                request.body = .bytes(ByteBuffer(string: encoded.joined(separator: "&")))
            } else if let json {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: json))
            }
            let response = try await Self.client.execute(request, timeout: .seconds(10))
            for header in response.headers["Set-Cookie"] {
                let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                let name = String(pair[0])
                let value = pair.count > 1 ? String(pair[1]) : ""
                if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
            let body = try await response.body.collect(upTo: 1 << 22)
            return Page(status: Int(response.status.code), headers: response.headers, text: String(buffer: body))
        }

        /// The CSRF token the last page carried.
        func csrf(in page: Page) -> String? {
            guard let range = page.text.range(of: #"name="csrf_token" value=""#) else { return nil }
            return String(page.text[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    static func signedIn(_ daemon: Daemon, as expert: String = "ada", token: String) async throws -> (Browser, String) {
        let browser = Browser(port: daemon.port)
        let signIn = try await browser.request(.GET, "/experts/\(expert)/availability-settings")
        let csrf = try #require(browser.csrf(in: signIn))
        let answer = try await browser.request(.POST, "/experts/\(expert)/availability-settings/sign-in", form: ["token": token, "csrf_token": csrf])
        #expect(answer.status == 303)
        return (browser, csrf)
    }

    @Test func signingInShowsTheExpertsPageAndSigningOutEndsIt() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            _ = try await daemon.sendFixtures()
            // The page lists what is upcoming; the fixtures' own times are fixed and pass.
            let lukas = try #require(try Corpus.fixtureBodies().first { String(decoding: $0, as: UTF8.self).contains("lukas") })
            let booked = try #require(try await daemon.sender.send(try Corpus.upcoming(lukas)).json?["position"] as? Int)
            let token = try await daemon.issueToken(for: "ada", label: nil).token
            let browser = Browser(port: daemon.port)
            let form = try await browser.request(.GET, "/experts/ada/availability-settings")
            #expect(form.status == 200)
            #expect(form.text.contains(#"<form method="post" action="/experts/ada/availability-settings/sign-in""#))
            #expect(!form.text.contains("Ada Lovelace"))
            #expect(form.headers["Content-Security-Policy"].first?.contains("default-src 'self'") == true)
            let csrf = try #require(browser.csrf(in: form))

            let wrong = try await browser.request(.POST, "/experts/ada/availability-settings/sign-in", form: ["token": "nope", "csrf_token": csrf])
            #expect(wrong.status == 401)
            #expect(wrong.text.contains("does not sign in"))
            #expect(browser.cookies["availd_session"] == nil)

            let signedIn = try await browser.request(.POST, "/experts/ada/availability-settings/sign-in", form: ["token": token, "csrf_token": csrf])
            #expect(signedIn.status == 303)
            let setCookie = signedIn.headers["Set-Cookie"].first { $0.hasPrefix("availd_session=") } ?? ""
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax"))

            let page = try await browser.request(.GET, "/experts/ada/availability-settings?min_position=\(booked)")
            #expect(page.text.contains("Availability Management"))
            #expect(page.text.contains("Ada Lovelace"))
            #expect(page.text.contains("Lukas Becker"), "the fixture appointments are listed")
            #expect(page.text.contains(#"value="calendly" checked"#))

            let out = try await browser.request(.POST, "/experts/ada/availability-settings/sign-out", form: ["csrf_token": csrf])
            #expect(out.status == 303)
            let after = try await browser.request(.GET, "/experts/ada/availability-settings")
            #expect(!after.text.contains("Ada Lovelace"))
        }
    }

    /// Behind a TLS proxy the cookies are `Secure`; over plain HTTP (loopback) they cannot be.
    @Test func behindHTTPSTheCookiesAreSecure() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let token = try await daemon.issueToken(for: "ada", label: nil).token
            for (proto, secure) in [("https", true), ("http", false)] {
                let browser = Browser(port: daemon.port)
                let form = try await browser.request(.GET, "/experts/ada/availability-settings", headers: ["X-Forwarded-Proto": proto])
                let csrf = try #require(browser.csrf(in: form))
                #expect(form.headers["Set-Cookie"].allSatisfy { $0.contains("; Secure") == secure })
                let signedIn = try await browser.request(
                    .POST, "/experts/ada/availability-settings/sign-in", form: ["token": token, "csrf_token": csrf],
                    headers: ["X-Forwarded-Proto": proto])
                let session = signedIn.headers["Set-Cookie"].first { $0.hasPrefix("availd_session=") } ?? ""
                #expect(session.contains("; Secure") == secure, "\(proto): \(session)")
            }
        }
    }

    @Test func anotherExpertsTokenDoesNotOpenThePage() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            let grace = try await daemon.issueToken(for: "grace", label: nil).token
            let browser = Browser(port: daemon.port)
            let form = try await browser.request(.GET, "/experts/ada/availability-settings")
            let csrf = try #require(browser.csrf(in: form))
            let refused = try await browser.request(.POST, "/experts/ada/availability-settings/sign-in", form: ["token": grace, "csrf_token": csrf])
            #expect(refused.status == 401)
            // Signed in as Grace, Ada's page, fragments and stream stay closed.
            _ = try await browser.request(.POST, "/experts/grace/availability-settings/sign-in", form: ["token": grace, "csrf_token": csrf])
            #expect(browser.cookies["availd_session"] != nil)
            #expect(!(try await browser.request(.GET, "/experts/ada/availability-settings")).text.contains("Ada Lovelace"))
            #expect(try await browser.request(.GET, "/experts/ada/availability-settings/appointments").status == 404)
            #expect(try await browser.request(.GET, "/experts/ada/availability-settings/stream").status == 404)
            #expect(try await browser.request(.GET, "/experts/ada").status == 404)
        }
    }

    @Test func everyChangeNeedsThePagesCSRFToken() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let token = try await daemon.issueToken(for: "ada", label: nil).token
            let browser = Browser(port: daemon.port)
            let form = try await browser.request(.GET, "/experts/ada/availability-settings")
            let csrf = try #require(browser.csrf(in: form))
            // A sign-in posted from elsewhere carries no (or another) token.
            #expect(try await browser.request(.POST, "/experts/ada/availability-settings/sign-in", form: ["token": token]).status == 403)
            #expect(try await browser.request(.POST, "/experts/ada/availability-settings/sign-in",
                                               form: ["token": token, "csrf_token": Secret.generate()]).status == 403)
            _ = try await browser.request(.POST, "/experts/ada/availability-settings/sign-in", form: ["token": token, "csrf_token": csrf])

            let connect = #"{"type":"calendly","event_link":"https://calendly.com/ada-lovelace/30min"}"#
            // Reads by cookie need no token; changes do.
            #expect(try await browser.request(.GET, "/experts/ada").status == 200)
            let forged = try await browser.request(.PUT, "/experts/ada/integration", json: connect)
            #expect(forged.status == 403)
            #expect(forged.text.contains("csrf_failed"))
            let wrong = try await browser.request(.PUT, "/experts/ada/integration", json: connect, headers: ["X-CSRF-Token": Secret.generate()])
            #expect(wrong.status == 403)
            #expect(try await browser.request(.DELETE, "/experts/ada/integration").status == 403)
            #expect(try await browser.request(.POST, "/experts/ada/availability-settings/sign-out", form: [:]).status == 403)
            let events = try await daemon.allEvents().count
            let real = try await browser.request(.PUT, "/experts/ada/integration", json: connect, headers: ["X-CSRF-Token": csrf])
            #expect(real.status == 200)
            #expect(try await daemon.allEvents().count == events + 1)
        }
    }

    @Test func theStreamSaysWhenTheExpertsAppointmentsChange() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            let token = try await daemon.issueToken(for: "ada", label: nil).token
            let (browser, _) = try await Self.signedIn(daemon, token: token)
            var request = HTTPClientRequest(url: "\(browser.base)/experts/ada/availability-settings/stream")
            request.headers.add(name: "Cookie", value: browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.headers["Content-Type"].first == "text/event-stream")
            var text = ""
            var iterator = response.body.makeAsyncIterator()
            // Connected first; then a delivery of Ada's, and the stream names its position.
            while !text.contains(": connected"), let chunk = try await iterator.next() { text += String(buffer: chunk) }
            let ada = try Corpus.fixtureBodies().first { String(decoding: $0, as: UTF8.self).contains("lukas") }
            let answer = try await daemon.sender.send(try Corpus.upcoming(try #require(ada)))
            let position = try #require(answer.json?["position"] as? Int)
            while !text.contains("event: changed"), let chunk = try await iterator.next() { text += String(buffer: chunk) }
            #expect(text.contains("event: changed\ndata: \(position)\n"))
            let fragment = try await browser.request(.GET, "/experts/ada/availability-settings/appointments")
            #expect(fragment.text.contains("Lukas Becker"))
        }
    }
}
