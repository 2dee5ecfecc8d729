import AvailCore
import AvailServer
import AvailStore
import AvailTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The README, "Staying in sync with Calendly": reconciliation appends what webhooks missed,
/// against the stand-in, with Ada's own account connected by OAuth.
@Suite struct ReconcileTests {
    /// Ada's bookings at the stand-in, made as an invitee would (her static token books).
    struct Bookings {
        let oauth: OAuthFixture

        func send(_ method: HTTPRequest.Method, _ path: String, _ json: String? = nil) async throws -> [String: Any] {
            let response = try await oauth.control.execute(
                uri: path, method: method,
                headers: [.authorization: "Bearer calendly-token-ada", .contentType: "application/json"],
                body: json.map { ByteBuffer(string: $0) })
            #expect(response.status.code < 300, "\(path): \(response.status) \(String(buffer: response.body))")
            return (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]) ?? [:]
        }

        /// `count` free start times of Ada's 30-minute event type.
        func slots(_ count: Int) async throws -> [String] {
            let start = Timestamp(microseconds: Timestamp.now().microseconds + 3_600_000_000)
            let end = Timestamp(microseconds: start.microseconds + 6 * 86_400_000_000)
            let answer = try await send(
                .get, "/event_type_available_times?event_type=\(StandInUsers.adaThirty)&start_time=\(start)&end_time=\(end)")
            let times = (answer["collection"] as? [[String: Any]] ?? []).compactMap { $0["start_time"] as? String }
            try #require(times.count >= count, "the stand-in offers \(times.count) slots")
            return Array(times.prefix(count))
        }

        /// Books `start`; the scheduled event's UUID.
        @discardableResult
        func book(_ start: String, _ index: Int) async throws -> String {
            try await booked(start, index).event
        }

        /// Books `start`; the scheduled event's UUID and the invitee's URI.
        func booked(_ start: String, _ index: Int) async throws -> (event: String, invitee: String) {
            let answer = try await send(
                .post, "/invitees",
                #"{"event_type":"\#(StandInUsers.adaThirty)","start_time":"\#(start)","invitee":{"name":"Invitee \#(index)","email":"invitee\#(index)@example.org","timezone":"Europe/Paris"}}"#)
            let resource = try #require(answer["resource"] as? [String: Any])
            let event = try #require(resource["event"] as? String), invitee = try #require(resource["uri"] as? String)
            return (String(event.split(separator: "/").last!), invitee)
        }

        /// The invitee moves to `start` through its reschedule link.
        func reschedule(_ invitee: String, to start: String) async throws {
            _ = try await send(.post, "/_sim/reschedule", #"{"invitee":"\#(invitee)","start_time":"\#(start)"}"#)
        }

        func cancel(_ event: String) async throws {
            _ = try await send(.post, "/scheduled_events/\(event)/cancellation", #"{"reason":"Something came up"}"#)
        }

        /// Waits until the stand-in has dealt with `total` deliveries to each of `urls`.
        func delivered(_ total: Int, to urls: [String]) async throws {
            for _ in 0..<300 {
                let response = try await oauth.control.execute(uri: "/_sim/webhooks/delivered", method: .get)
                let counts = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: [String: Int]] ?? [:]
                let done = urls.allSatisfy { url in
                    let count = counts[url] ?? [:]
                    return (count["sent"] ?? 0) + (count["failed"] ?? 0) + (count["dropped"] ?? 0) >= total
                }
                if done { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("the stand-in did not deliver \(total) to \(urls)")
        }

        func dropped(to url: String) async throws -> Int {
            let response = try await oauth.control.execute(uri: "/_sim/webhooks/delivered", method: .get)
            let counts = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: [String: Int]] ?? [:]
            return counts[url]?["dropped"] ?? 0
        }
    }

    /// A daemon on its own database file, with Ada connected to her own account.
    static func configuration(_ oauth: OAuthFixture, _ folder: TemporaryDirectory, _ name: String) -> AvailServer.Configuration {
        var configuration = oauth.configuration()
        configuration.databasePath = folder.path("\(name).sqlite")
        configuration.secretKey = "a secret key that is long enough to seal with, \(name)"
        return configuration
    }

    /// Registers the app with every daemon's callback, then connects Ada to each; her availd
    /// token at each.
    @discardableResult
    static func connectAda(_ oauth: OAuthFixture, _ browser: TestBrowser, _ daemons: [Daemon]) async throws -> [String] {
        let uris = daemons.map { "\"\($0.baseURL)/oauth/calendly/callback\"" }.joined(separator: ",")
        try await oauth.sim(
            "/_sim/oauth/apps",
            #"{"client_id":"\#(OAuthFixture.clientID)","client_secret":"\#(OAuthFixture.clientSecret)","redirect_uris":[\#(uris)],"webhook_signing_key":"\#(daemons[0].configuration.signingKeys[0])"}"#)
        try await oauth.sim("/_sim/rate_limits", #"{"invitees_per_minute":1000}"#)
        var tokens: [String] = []
        for daemon in daemons {
            let token = try await CalendlyOAuthTests().ada(daemon)
            #expect(try await oauth.connect("ada", token: token, as: StandInUsers.ada.slug, daemon: daemon, browser: browser).status == 302)
            tokens.append(token)
        }
        return tokens
    }

    static func appointments(_ configuration: AvailServer.Configuration) async throws -> [String] {
        let readModels = ReadModels(database: try LogDatabase.open(path: configuration.databasePath))
        let page = try await readModels.appointments(AppointmentQuery(expertID: "ada", limit: 500))
        return page.appointments.map { String(decoding: $0.canonicalJSON(), as: UTF8.self) }.sorted()
    }

    static func logLength(_ configuration: AvailServer.Configuration) async throws -> Int64 {
        try await EventLog(database: try LogDatabase.open(path: configuration.databasePath)).lastPosition()
    }

    static func reconcile(_ configuration: AvailServer.Configuration, since: Timestamp? = nil) async throws -> ReconcileSummary {
        var logger = Logger(label: "availd-test")
        logger.logLevel = .warning
        let access = CalendlyAccess(
            api: configuration.calendlyAPI, organizationToken: configuration.calendlyToken, oauthApp: configuration.calendlyOAuth,
            authURL: configuration.calendlyAuth, secretKey: configuration.secretKey)
        let summaries = try await DaemonDatabase.with(path: configuration.databasePath, password: nil, logger: logger) { database in
            try await reconcileOnce(database: database, access: access, expertID: "ada", since: since, logger: logger)
        }
        let summary = try #require(summaries.first)
        #expect(summary.complete, "\(summary.error ?? "")")
        return summary
    }

    /// Waits until `configuration`'s read models hold `count` of Ada's appointments.
    static func projected(_ count: Int, _ configuration: AvailServer.Configuration) async throws {
        for _ in 0..<200 {
            if try await appointments(configuration).count >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(configuration.databasePath) did not project \(count) appointments")
    }

    @Test func aThirdOfTheDeliveriesLostIsRecoveredByOneReconcileAndASecondAppendsNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            let lossy = Self.configuration(oauth, folder, "lossy"), whole = Self.configuration(oauth, folder, "whole")
            try await withDaemon(lossy) { lossyDaemon in
                try await withDaemon(whole) { wholeDaemon in
                    try await Self.connectAda(oauth, browser, [lossyDaemon, wholeDaemon])
                    let lossyURL = lossyDaemon.baseURL + "/webhooks/calendly", wholeURL = wholeDaemon.baseURL + "/webhooks/calendly"
                    try await oauth.sim("/_sim/webhooks/drop", #"{"fraction":0.3,"seed":7,"url":"\#(lossyURL)"}"#)
                    let bookings = Bookings(oauth: oauth)
                    let slots = try await bookings.slots(28)
                    var booked: [(event: String, invitee: String)] = []
                    for (index, slot) in slots.prefix(24).enumerated() {
                        booked.append(try await bookings.booked(slot, index))
                    }
                    // 8 canceled, 4 rescheduled by their invitees (two deliveries each), 12 kept.
                    for item in booked.prefix(8) { try await bookings.cancel(item.event) }
                    for (item, slot) in zip(booked[8..<12], slots[24..<28]) { try await bookings.reschedule(item.invitee, to: slot) }
                    try await bookings.delivered(40, to: [lossyURL, wholeURL])
                    #expect(try await bookings.dropped(to: lossyURL) >= 6)
                    #expect(try await bookings.dropped(to: wholeURL) == 0)
                    try await Self.projected(28, whole)
                    let expected = try await Self.appointments(whole)
                    #expect(expected.count == 28)
                    #expect(expected.filter { $0.contains(#""status":"rescheduled""#) }.count == 4)
                    #expect(try await Self.appointments(lossy) != expected)

                    // The daemon that missed nothing: Calendly says nothing it does not know,
                    // and the events it knows whole are not asked about.
                    let quiet = try await Self.reconcile(whole)
                    #expect(quiet.appended == 0 && quiet.events == 28 && quiet.invitees == 0)

                    let before = try await Self.logLength(lossy)
                    let first = try await Self.reconcile(lossy)
                    #expect(first.appended > 0 && first.events == 28)
                    #expect(try await Self.appointments(lossy) == expected)
                    let after = try await Self.logLength(lossy)
                    #expect(after == before + Int64(first.appended))
                    let observed = try await lossyDaemon.allEvents().filter { $0.type == InviteeObservation.type }
                    #expect(observed.count == first.appended && observed.allSatisfy { $0.source == "reconcile" })

                    let second = try await Self.reconcile(lossy)
                    #expect(second.appended == 0)
                    #expect(try await Self.logLength(lossy) == after)
                    // The daemon serves what the reconciliation found (its projector caught up).
                    let served = try await lossyDaemon.call(.get, "/experts/ada/appointments?limit=100").json["appointments"] as? [[String: Any]]
                    #expect(served?.count == 28)
                    #expect(served?.filter { $0["status"] as? String == "canceled" }.count == 8)
                    #expect(served?.filter { $0["status"] as? String == "rescheduled" }.count == 4)
                }
            }
        }
    }

    @Test func aDisabledSubscriptionsGapIsReconciledOnceItIsReplaced() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            var configuration = Self.configuration(oauth, folder, "gap")
            configuration.subscriptionCheckInterval = .milliseconds(300)
            configuration.reconcileInterval = .seconds(3600)
            try await withDaemon(configuration) { daemon in
                let token = try await Self.connectAda(oauth, browser, [daemon])[0]
                let never = try #require(try await CalendlyOAuthTests().expert("ada", daemon)["calendly"] as? [String: Any])
                #expect((never["reconciliation"] as? [String: Any])?["last_complete_pass"] is NSNull)
                #expect(try await OwnAccountPageTests().page(daemon, token: token).contains("has not yet compared your bookings"))
                // Calendly gives up on the URL (its day of retries, shortened) and disables it.
                try await oauth.sim("/_sim/webhooks/fail", #"{"url":"\#(daemon.baseURL)/webhooks/calendly","after":1}"#)
                let bookings = Bookings(oauth: oauth)
                let slots = try await bookings.slots(2)
                _ = try await bookings.book(slots[0], 1)
                _ = try await bookings.book(slots[1], 2)
                // The monitor replaces the subscription; the gap is reconciled from its retry_started_at.
                var found: [[String: Any]] = []
                for _ in 0..<200 {
                    found = try await daemon.call(.get, "/experts/ada/appointments?limit=100").json["appointments"] as? [[String: Any]] ?? []
                    if found.count == 2 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(found.count == 2)
                #expect(Set(found.compactMap { ($0["invitee"] as? [String: Any])?["email"] as? String }) == ["invitee1@example.org", "invitee2@example.org"])
                // The first booking's delivery failed (and disabled the subscription); the second
                // may have come through the replacement, if it was made after it.
                let events = try await daemon.allEvents()
                let observed = events.filter { $0.type == InviteeObservation.type && $0.source == "reconcile" }.count
                #expect((1...2).contains(observed))
                #expect(events.contains { $0.type == CalendlySubscriptionSet.type && $0.body.contains(#""reason":"disabled""#) })
                let metrics = String(buffer: try await daemon.client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains("availd_reconcile_appended_total \(observed)\n"), "\(metrics)")
                // The expert sees when availd last compared with Calendly.
                let account = try #require(try await CalendlyOAuthTests().expert("ada", daemon)["calendly"] as? [String: Any])
                let reconciliation = try #require(account["reconciliation"] as? [String: Any])
                #expect(reconciliation["last_complete_pass"] is String && reconciliation["under_way"] as? Bool == false)
                #expect(reconciliation["last_error"] is NSNull)
                #expect(try await OwnAccountPageTests().page(daemon, token: token).contains("last compared your bookings with Calendly"))
            }
        }
    }

    /// A daemon with Ada connected that hears of none of her `count` bookings (its
    /// subscription's deliveries are all lost), for `body`.
    static func withBookingsNeverDelivered(
        _ count: Int, _ body: @Sendable (OAuthFixture, AvailServer.Configuration) async throws -> Void
    ) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, browser in
            let configuration = Self.configuration(oauth, folder, "missed")
            try await withDaemon(configuration) { daemon in
                try await Self.connectAda(oauth, browser, [daemon])
                try await oauth.sim("/_sim/webhooks/drop", #"{"fraction":1,"url":"\#(daemon.baseURL)/webhooks/calendly"}"#)
                let bookings = Bookings(oauth: oauth)
                for (index, slot) in try await bookings.slots(count).enumerated() { try await bookings.book(slot, index) }
                try await body(oauth, configuration)
            }
        }
    }

    @Test func aRateLimitedReconciliationWaitsAndFinishes() async throws {
        try await Self.withBookingsNeverDelivered(3) { oauth, configuration in
            try await inject(#"[{"path":"/scheduled_events","status":429,"times":4,"rate_limit_reset":"1"}]"#, oauth.control)
            let summary = try await Self.reconcile(configuration)
            #expect(summary.appended == 3)
            #expect(try await Self.appointments(configuration).count == 3)
            // Each 429 was waited out and asked again.
            #expect(try await requestCount("/scheduled_events", oauth.control) == 5)
        }
    }

    @Test func aPassGoesOnFromWhereItStoppedAndAStalePageStartsAgain() async throws {
        try await Self.withBookingsNeverDelivered(12) { _, configuration in
            // A pass stopped (a restart) after its first 10 events: it goes on from the 11th.
            let store = ReconcileProgressRecords(database: try LogDatabase.open(path: configuration.databasePath))
            let window = Timestamp(microseconds: Timestamp.now().microseconds - 86_400_000_000)
            try await store.begin(expertID: "ada", userURI: StandInUsers.ada.uri, windowStart: window, at: .now())
            try await store.advance(expertID: "ada", pageToken: "10", at: .now())
            let resumed = try await Self.reconcile(configuration)
            #expect(resumed.events == 2 && resumed.appended == 2)
            let progress = try #require(try await store.load(expertID: "ada"))
            #expect(!progress.isUnderWay && progress.completedAt != nil && progress.lastAppended == 2)

            // A page Calendly no longer knows: the window is read again from its start.
            try await store.begin(expertID: "ada", userURI: StandInUsers.ada.uri, windowStart: window, at: .now())
            try await store.advance(expertID: "ada", pageToken: "no-such-page", at: .now())
            let restarted = try await Self.reconcile(configuration)
            #expect(restarted.events == 12 && restarted.appended == 10)
        }
    }
}
