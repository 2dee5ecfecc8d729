import AvailTesting
import Foundation
import NIOHTTP1
import Testing

/// `availd calendly subscribe` and `availd calendly subscriptions` (the README, "Staying in
/// sync with Calendly"), as real processes against the stand-in `availd-sim calendly`, and the
/// daemon that watches what they made.
@Suite(.serialized) struct CalendlySubscriptionCommandTests {
    static let events: Set<String> = ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"]

    /// `availd calendly ARGUMENTS… --database DATABASE --calendly-api CALENDLY`, to completion.
    func calendly(_ arguments: [String], database: String, calendly: StandInProcess) async throws -> AvaildProcess.Completed {
        try await AvaildProcess.run(["calendly"] + arguments + ["--database", database, "--calendly-api", calendly.url])
    }

    func subscribe(_ url: String, _ extra: [String] = [], database: String, calendly standIn: StandInProcess) async throws -> AvaildProcess.Completed {
        try await calendly(
            ["subscribe", "--url", url, "--calendly-token", StandInProcess.admin.token] + extra, database: database, calendly: standIn)
    }

    @Test func subscribeCreatesTheOrganizationsSubscriptionOnceAndADaemonWithDefaultsAcceptsItsDeliveries() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("var/availd.sqlite")
        let standIn = try await StandInProcess.start()
        defer { standIn.stop() }
        let port = try freePort()
        let url = "http://127.0.0.1:\(port)/webhooks/calendly"

        let first = try await subscribe(url, database: database, calendly: standIn)
        #expect(first.status == 0, "\(first.stderr)")
        let listed = try await standIn.listed()
        #expect(listed.count == 1)
        let created = try #require(listed.first)
        #expect(created["callback_url"] as? String == url)
        #expect(created["scope"] as? String == "organization")
        #expect(created["organization"] as? String == StandInProcess.organization)
        #expect(Set(created["events"] as? [String] ?? []) == Self.events)
        let uri = try #require(created["uri"] as? String)
        #expect(lines(first.stdout, startingWith: "subscription ") == ["subscription created \(uri) active organization \(url)"])
        #expect(lines(first.stdout, startingWith: "events ").first.map { Set($0.split(separator: " ").dropFirst().map(String.init)) } == Self.events)
        // The key is the one `serve` reads by default, created now, and never shown.
        let key = try String(contentsOfFile: database + ".signing-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(first.stdout.contains("signing key: kept in \(database).signing-key, which serve already reads"))
        #expect(!first.stdout.contains(key) && !first.stderr.contains(key))

        // Again: Calendly's 409 for the URL, and the one it has is adopted.
        let second = try await subscribe(url, database: database, calendly: standIn)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(lines(second.stdout, startingWith: "subscription ") == ["subscription adopted \(uri) active organization \(url)"])
        #expect(second.stderr.contains("warning") && second.stderr.contains("signs its deliveries with whatever key it was created with"))
        #expect(try await standIn.listed().count == 1)

        // A daemon started afterwards with its defaults accepts what Calendly signs for it.
        let (daemon, daemonPort) = try await AvaildProcess.serve(["--database", database, "--port", "\(port)", "--calendly-api", standIn.url])
        #expect(daemonPort == port)
        let admin = try await daemon.stdoutValue(after: "availd admin token: ")
        #expect(try await standIn.bookWithAda(invitee: "Iris") == 201)
        #expect(try await standIn.delivered()[url] == ["sent": 1, "failed": 0, "dropped": 0])
        let events = try await StandInProcess.send(.GET, "http://127.0.0.1:\(port)/events", bearer: admin).json["events"] as? [[String: Any]] ?? []
        #expect(events.map { "\($0["source"] ?? "") \($0["type"] ?? "")" } == ["calendly invitee.created"])
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
    }

    @Test func scopeUserSubscribesTheTokensOwnUserWithTheKeyGiven() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        let standIn = try await StandInProcess.start()
        defer { standIn.stop() }
        let url = "http://127.0.0.1:\(try freePort())/webhooks/calendly"
        let key = "a-signing-key-typed-by-the-operator"

        let result = try await subscribe(url, ["--scope", "user", "--signing-key", key], database: database, calendly: standIn)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try await standIn.listed().isEmpty)
        let listed = try await standIn.listed(scope: "user", user: StandInProcess.admin.uri)
        #expect(listed.count == 1)
        #expect(listed.first?["user"] as? String == StandInProcess.admin.uri)
        #expect(listed.first?["callback_url"] as? String == url)
        let uri = try #require(listed.first?["uri"] as? String)
        #expect(lines(result.stdout, startingWith: "subscription ") == ["subscription created \(uri) active user \(url)"])
        #expect(result.stdout.contains("pass it to serve with --signing-key (or AVAILD_SIGNING_KEYS)"))
        #expect(!result.stdout.contains(key) && !result.stderr.contains(key))
        #expect(!FileManager.default.fileExists(atPath: database + ".signing-key"))
    }

    @Test func withoutTheOrganizationTokenSubscribeFailsClearly() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let standIn = try await StandInProcess.start()
        defer { standIn.stop() }
        let result = try await calendly(
            ["subscribe", "--url", "http://127.0.0.1:9/webhooks/calendly"], database: folder.path("availd.sqlite"), calendly: standIn)
        #expect(result.status != 0)
        #expect(result.stderr.contains("--calendly-token") && result.stderr.contains("AVAILD_CALENDLY_TOKEN"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        // Calendly was not asked anything.
        #expect(try await standIn.call(.GET, "/_sim/requests", bearer: nil).body == "0")
    }

    @Test func theDaemonReplacesADisabledOrganizationSubscriptionTheNewOneFirst() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        let standIn = try await StandInProcess.start()
        defer { standIn.stop() }
        let port = try freePort()
        let url = "http://127.0.0.1:\(port)/webhooks/calendly"
        #expect(try await subscribe(url, database: database, calendly: standIn).status == 0)
        let old = try #require(try await standIn.listed().first?["uri"] as? String)
        let (daemon, _) = try await AvaildProcess.serve([
            "--database", database, "--port", "\(port)", "--calendly-api", standIn.url, "--calendly-token", StandInProcess.admin.token,
            "--subscription-check-interval", "0.5",
        ])
        let admin = try await daemon.stdoutValue(after: "availd admin token: ")

        // Calendly gives up on the URL (its 24 hours of retries, shortened) and disables it.
        #expect(try await standIn.sim("/_sim/webhooks/fail", #"{"url":"\#(url)","after":1}"#))
        #expect(try await standIn.bookWithAda(invitee: "Iris") == 201)
        var replacement: [String: Any]?
        for _ in 0..<400 {
            let listed = try await standIn.listed()
            if listed.count == 1, let only = listed.first, only["uri"] as? String != old { replacement = only; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let logs = await daemon.stderrText()
        let new = try #require(replacement, "no replacement of \(old): \(logs)")
        let newURI = try #require(new["uri"] as? String)
        let newURL = try #require(new["callback_url"] as? String)
        #expect(new["state"] as? String == "active")
        #expect(newURL.hasPrefix(url + "/r") && newURL.count > url.count + 2)
        #expect(Set(new["events"] as? [String] ?? []) == Self.events)
        let history = try await standIn.history()
        let createdNew = try #require(history.firstIndex { $0 == ("created", newURI) })
        let deletedOld = try #require(history.firstIndex { $0 == ("deleted", old) })
        #expect(createdNew < deletedOld, "the old one was deleted before its replacement existed: \(history)")

        // The replacement is signed with a key the daemon accepts.
        #expect(try await standIn.bookWithAda(invitee: "Jude") == 201)
        #expect(try await standIn.delivered()[newURL] == ["sent": 1, "failed": 0, "dropped": 0])
        let events = try await StandInProcess.send(.GET, "http://127.0.0.1:\(port)/events", bearer: admin).json["events"] as? [[String: Any]] ?? []
        #expect(events.count == 1)

        // The check is recorded: the listing shows when, and what it found.
        let listing = try await calendly(
            ["subscriptions", "--json", "--calendly-token", StandInProcess.admin.token], database: database, calendly: standIn)
        #expect(listing.status == 0, "\(listing.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any])["subscriptions"] as? [[String: Any]]
        #expect(rows?.count == 1)
        let row = try #require(rows?.first)
        #expect(row["uri"] as? String == newURI && row["state"] as? String == "active" && row["expert"] is NSNull)
        #expect((row["last_check"] as? [String: Any])?["state"] as? String == "active")
        #expect((row["last_check"] as? [String: Any])?["checked_at"] is String)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let stderr = await daemon.stderrText()
        #expect(stderr.contains("calendly organization subscription disabled; replacing it"))
    }

    /// On either backend. On PostgreSQL nothing is kept beside the database: the daemon, the
    /// subscription and the listing are given the keys.
    @Test(arguments: Backend.allCases)
    func subscriptionsListsTheAccountsAndTheOrganizationsWithStateAndLastCheck(backend: Backend) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try backend.database(in: folder)
        let given = backend == .postgres
        let standIn = try await StandInProcess.start()
        defer { standIn.stop() }
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let oauthOptions = try await registerApp(at: standIn, for: base)
        let (daemon, _) = try await AvaildProcess.serve(
            ["--database", database, "--port", "\(port)", "--calendly-api", standIn.url, "--calendly-token", StandInProcess.admin.token,
             "--admin-token", adminToken, "--subscription-check-interval", "0.5"] + oauthOptions + backend.sharedSecrets)
        try await connectAda(daemon: base, standIn: standIn)
        if given {
            let keyless = try await subscribe(base + "/webhooks/calendly/org", database: database, calendly: standIn)
            #expect(keyless.status != 0)
            #expect(keyless.stderr.contains("on PostgreSQL nothing keeps a signing key beside the database: give --signing-key"), "\(keyless.stderr)")
            #expect(try await standIn.listed().isEmpty, "Calendly was asked nothing")
        }
        let subscribed = try await subscribe(
            base + "/webhooks/calendly/org", given ? ["--signing-key", signingKey] : [], database: database, calendly: standIn)
        #expect(subscribed.status == 0, "\(subscribed.stderr)")
        let keys = given ? ["--secret-key", secretKey] : []
        // Both checked by the daemon at least once.
        for _ in 0..<400 {
            let metrics = try await StandInProcess.send(.GET, base + "/metrics").body
            if metrics.contains(#"availd_calendly_subscriptions{state="active"} 2"#) { break }
            try await Task.sleep(for: .milliseconds(50))
        }

        let listing = try await calendly(
            ["subscriptions", "--json", "--calendly-token", StandInProcess.admin.token] + oauthOptions + keys, database: database, calendly: standIn)
        #expect(listing.status == 0, "\(listing.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any])["subscriptions"] as? [[String: Any]] ?? []
        #expect(rows.count == 2)
        let ada = try #require(rows.first { $0["expert"] as? String == "ada" })
        #expect(ada["scope"] as? String == "user" && ada["state"] as? String == "active")
        #expect(ada["callback_url"] as? String == base + "/webhooks/calendly")
        #expect(Set(ada["events"] as? [String] ?? []) == Self.events)
        #expect((ada["last_check"] as? [String: Any])?["state"] as? String == "active")
        let organization = try #require(rows.first { $0["expert"] is NSNull })
        #expect(organization["scope"] as? String == "organization" && organization["state"] as? String == "active")
        #expect(organization["callback_url"] as? String == base + "/webhooks/calendly/org")
        #expect((organization["last_check"] as? [String: Any])?["state"] as? String == "active")

        // The table a person reads.
        let table = try await calendly(
            ["subscriptions", "--calendly-token", StandInProcess.admin.token] + oauthOptions + keys, database: database, calendly: standIn)
        #expect(table.status == 0, "\(table.stderr)")
        let text = table.stdout.split(separator: "\n").map(String.init)
        #expect(text.first?.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") == "EXPERT SCOPE STATE EVENTS CALLBACK URL LAST CHECK")
        #expect(text.dropFirst().map { $0.split(separator: " ").prefix(3).joined(separator: " ") }.sorted() == ["ada user active", "organization organization active"])

        // Without the keys to ask with: what availd last knew, and why it cannot say more.
        let blind = try await calendly(
            ["subscriptions", "--json", "--secret-key", "not the key that sealed the tokens, but long enough"], database: database, calendly: standIn)
        #expect(blind.status == 0, "\(blind.stderr)")
        let blindRows = try #require(try JSONSerialization.jsonObject(with: Data(blind.stdout.utf8)) as? [String: Any])["subscriptions"] as? [[String: Any]] ?? []
        #expect(blindRows.count == 2)
        #expect(blindRows.allSatisfy { $0["state"] as? String == "unknown" && $0["last_known_state"] as? String == "active" })
        let adaBlind = try #require(blindRows.first { $0["expert"] as? String == "ada" })
        #expect((adaBlind["unknown_reason"] as? String)?.contains("cannot be opened") == true, "\(adaBlind)")
        let organizationBlind = try #require(blindRows.first { $0["expert"] is NSNull })
        #expect((organizationBlind["unknown_reason"] as? String)?.contains("--calendly-token") == true)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
    }

    /// `availd doctor`: with what serve runs with, everything answers; then a secret file
    /// others can read, a token Calendly refuses, a secret key that cannot open Ada's tokens and
    /// a subscription Calendly disabled, each a failure with its fix, and exit 1.
    @Test func doctorSaysWhatWorksAndWhatToFix() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        let standIn = try await StandInProcess.start()
        defer { standIn.stop() }
        let port = try freePort()
        let base = "http://127.0.0.1:\(port)"
        let options = ["--database", database, "--calendly-api", standIn.url] + (try await registerApp(at: standIn, for: base))
        let (daemon, _) = try await AvaildProcess.serve(
            options + ["--port", "\(port)", "--calendly-token", StandInProcess.admin.token, "--admin-token", adminToken])
        defer { daemon.signal(SIGTERM) }
        try await connectAda(daemon: base, standIn: standIn)
        #expect(try await subscribe(base + "/webhooks/calendly/org", database: database, calendly: standIn).status == 0)

        let healthy = try await AvaildProcess.run(["doctor", "--calendly-token", StandInProcess.admin.token] + options)
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        let said = healthy.stdout.split(separator: "\n").map(String.init)
        for prefix in ["OK    database: \(database), mode 0600", "OK    signing key: \(database).signing-key, mode 0600",
                       "OK    admin token: no \(database).admin-token: given", "OK    secret key: \(database).secret-key",
                       "OK    database: opens and takes writes", "OK    read models: the log holds",
                       "OK    organization token: Calendly answers at \(standIn.url)", "OK    expert ada: Calendly answers",
                       "OK    subscription of expert ada: active", "OK    subscription of the organization: active"] {
            #expect(said.contains { $0.hasPrefix(prefix) }, "\(prefix) in \(healthy.stdout)")
        }
        #expect(!said.contains { $0.hasPrefix("FAIL") || $0.hasPrefix("WARN") }, "\(healthy.stdout)")
        #expect(said.last == "no problem found")
        #expect(!healthy.stdout.contains(StandInProcess.admin.token) && !healthy.stdout.contains(Self.app.secret))

        // What goes wrong in production.
        chmod(database + ".signing-key", 0o644)
        #expect(try await standIn.sim("/_sim/webhooks/fail", #"{"url":"\#(base)/webhooks/calendly/org","after":1}"#))
        #expect(try await standIn.bookWithAda(invitee: "Iris") == 201)
        for _ in 0..<200 where try await standIn.listed().first?["state"] as? String != "disabled" {
            try await Task.sleep(for: .milliseconds(50))
        }
        func doctor(_ extra: [String]) async throws -> (status: Int32, lines: [String], text: String) {
            let run = try await AvaildProcess.run(["doctor"] + extra + options)
            return (run.status, run.stdout.split(separator: "\n").map(String.init), run.stdout + run.stderr)
        }
        func expectFailure(_ prefix: String, fix: String? = nil, in run: (status: Int32, lines: [String], text: String)) {
            guard let index = run.lines.firstIndex(where: { $0.hasPrefix(prefix) }) else {
                Issue.record("no \(prefix) in \(run.text)")
                return
            }
            if let fix { #expect(run.lines.indices.contains(index + 1) && run.lines[index + 1] == "      fix: " + fix, "\(run.text)") }
        }
        let exposed = try await doctor(["--calendly-token", StandInProcess.admin.token])
        #expect(exposed.status == 1, "\(exposed.text)")
        expectFailure("FAIL  signing key: \(database).signing-key is readable by others (mode 0644)", fix: "chmod 600 \(database).signing-key",
                      in: exposed)
        expectFailure("FAIL  subscription of the organization: disabled at Calendly", fix: "run `availd calendly subscribe` again", in: exposed)
        #expect(exposed.lines.last == "2 problems to fix", "\(exposed.text)")

        let refused = try await doctor(
            ["--calendly-token", "a-token-calendly-refuses", "--secret-key", "not the key that sealed the tokens, but long enough"])
        #expect(refused.status == 1, "\(refused.text)")
        expectFailure("FAIL  organization token: Calendly refused the token",
                      fix: "make a new personal access token in Calendly and pass it as --calendly-token", in: refused)
        expectFailure("FAIL  expert ada: the stored tokens cannot be opened with this secret key", in: refused)
        #expect(refused.lines.contains { $0.hasPrefix("WARN  subscription of the organization: unknown: Calendly refused the token") })
        #expect(refused.lines.last == "3 problems to fix", "\(refused.text)")
    }

    @Test func versionSaysWhichAvaildAndSwift() async throws {
        let version = try await AvaildProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.wholeMatch(of: /availd \d+\.\d+\.\d+ \(Swift \d+\.\d+\)\n/) != nil, "\(version.stdout)")
    }

    static let app = (id: "availd-e2e-app", secret: "availd-e2e-app-secret")

    /// Registers the OAuth app at the stand-in, redirecting to the daemon at `base`; the
    /// options that name it.
    func registerApp(at standIn: StandInProcess, for base: String) async throws -> [String] {
        let app = Self.app
        #expect(try await standIn.sim(
            "/_sim/oauth/apps", #"{"client_id":"\#(app.id)","client_secret":"\#(app.secret)","redirect_uris":["\#(base)/oauth/calendly/callback"]}"#))
        return ["--calendly-auth", standIn.url, "--calendly-client-id", app.id, "--calendly-client-secret", app.secret]
    }

    /// Ada connects her own Calendly account as a browser would: availd's authorize (with her
    /// expert token), the stand-in's consent page approved as Ada, availd's callback with the
    /// browser's cookie.
    func connectAda(daemon: String, standIn: StandInProcess) async throws {
        let profile = #"{"name":"Ada Lovelace","email":"ada.lovelace@experts.example","timezone":"Europe/London"}"#
        #expect(try await StandInProcess.send(.PUT, daemon + "/experts/ada", bearer: adminToken, json: profile).status == 200)
        let issued = try await StandInProcess.send(.POST, daemon + "/experts/ada/tokens", bearer: adminToken, json: #"{"label":"e2e"}"#)
        let token = try #require(issued.json["token"] as? String)
        let authorize = try await StandInProcess.send(.GET, daemon + "/experts/ada/calendly/authorize", bearer: token)
        let consent = try #require(authorize.headers.first(name: "Location"), "authorize: \(authorize.status) \(authorize.body)")
        let cookies = authorize.headers[canonicalForm: "Set-Cookie"].compactMap { $0.split(separator: ";").first }.joined(separator: "; ")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let fields = (URLComponents(string: consent)?.queryItems ?? []).map { ($0.name, $0.value ?? "") }
            + [("user", StandInProcess.ada.slug), ("decision", "approve")]
        let form = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        let approved = try await StandInProcess.send(.POST, standIn.url + "/oauth/authorize", form: form)
        let callback = try #require(approved.headers.first(name: "Location"), "consent: \(approved.status) \(approved.body.prefix(300))")
        let done = try await StandInProcess.send(.GET, callback, headers: [("Cookie", cookies)])
        #expect(done.status == 302, "callback: \(done.body.prefix(300))")
        let expert = try await StandInProcess.send(.GET, daemon + "/experts/ada", bearer: adminToken).json
        #expect(((expert["calendly"] as? [String: Any])?["subscription"] as? [String: Any])?["state"] as? String == "active")
    }
}
