import AsyncHTTPClient
import AvailCore
import AvailServer
import AvailStore
import AvailTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The README, "Staying in sync with Calendly": each own account's webhook subscription,
/// against the stand-in's `webhook_subscriptions`.
@Suite struct SubscriptionTests {
    static let organization = "https://api.calendly.com/organizations/561509c9-96dd-4445-989c-8a74f3088068"

    /// The stand-in's subscriptions for Ada, as her static token lists them.
    func listed(_ oauth: OAuthFixture) async throws -> [[String: Any]] {
        let query = "organization=\(Self.organization)&scope=user&user=\(StandInUsers.ada.uri)"
        let response = try await oauth.control.execute(
            uri: "/webhook_subscriptions?\(query)", method: .get, headers: [.authorization: "Bearer calendly-token-ada"])
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return object?["collection"] as? [[String: Any]] ?? []
    }

    func subscription(_ daemon: Daemon) async throws -> [String: Any]? {
        (try await daemon.call(.get, "/experts/ada").json["calendly"] as? [String: Any])?["subscription"] as? [String: Any]
    }

    @Test func connectingCreatesTheAccountsUserScopedSubscription() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                _ = try await OwnAccountEventTypesTests().connected(oauth, browser, daemon)
                let shown = try #require(try await subscription(daemon))
                #expect(shown["state"] as? String == "active")
                #expect(shown["callback_url"] as? String == daemon.baseURL + "/webhooks/calendly")
                let at = try await listed(oauth)
                #expect(at.count == 1)
                #expect(at.first?["uri"] as? String == shown["uri"] as? String)
                #expect(at.first?["scope"] as? String == "user")
                #expect(at.first?["user"] as? String == StandInUsers.ada.uri)
                let events = Set(at.first?["events"] as? [String] ?? [])
                #expect(events.isSuperset(of: ["invitee.created", "invitee.canceled"]))
                let event = try await daemon.allEvents().first { $0.type == CalendlySubscriptionSet.type }
                #expect(event?.body.contains(#""adopted":false"#) == true)
            }
        }
    }

    @Test func anExistingSubscriptionToTheURLIsAdopted() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                // Ada (or an earlier availd) made one to this URL already: Calendly's 409.
                let body = #"{"url":"\#(daemon.baseURL)/webhooks/calendly","events":["invitee.created","invitee.canceled"],"organization":"\#(Self.organization)","scope":"user","user":"\#(StandInUsers.ada.uri)"}"#
                let created = try await oauth.control.execute(
                    uri: "/webhook_subscriptions", method: .post,
                    headers: [.authorization: "Bearer calendly-token-ada", .contentType: "application/json"], body: ByteBuffer(string: body))
                #expect(created.status == .created, "\(String(buffer: created.body))")
                let existing = (try JSONSerialization.jsonObject(with: Data(created.body.readableBytesView)) as? [String: Any])?["resource"] as? [String: Any]
                _ = try await OwnAccountEventTypesTests().connected(oauth, browser, daemon)
                #expect(try await subscription(daemon)?["uri"] as? String == existing?["uri"] as? String)
                #expect(try await listed(oauth).count == 1)
                let event = try await daemon.allEvents().first { $0.type == CalendlySubscriptionSet.type }
                #expect(event?.body.contains(#""adopted":true"#) == true)
            }
        }
    }

    @Test func aDisabledSubscriptionIsReplacedTheNewOneFirst() async throws {
        try await withOAuth { oauth, browser in
            var configuration = oauth.configuration()
            configuration.subscriptionCheckInterval = .milliseconds(300)
            try await withDaemon(configuration) { daemon in
                let token = try await OwnAccountEventTypesTests().connected(oauth, browser, daemon)
                let old = try #require(try await subscription(daemon)?["uri"] as? String)
                // Calendly gives up on the URL (its 24 hours of retries, shortened) and disables it.
                try await oauth.sim("/_sim/webhooks/fail", #"{"url":"\#(daemon.baseURL)/webhooks/calendly","after":1}"#)
                #expect(try await OwnAccountEventTypesTests().asAda(daemon, token, .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#).status == .ok)
                let slot = try #require(try await daemon.call(.get, "/experts/ada/availability?\(CalendlyAvailabilityTests.range)").json["slots"] as? [[String: Any]]).first?["start_time"] as? String
                let booking = #"{"event_type":"\#(StandInUsers.adaThirty)","start_time":"\#(slot ?? "")","invitee":{"name":"Iris","email":"iris@example.org"}}"#
                let booked = try await oauth.control.execute(
                    uri: "/invitees", method: .post,
                    headers: [.authorization: "Bearer calendly-token-ada", .contentType: "application/json"], body: ByteBuffer(string: booking))
                #expect(booked.status == .created, "\(String(buffer: booked.body))")

                // The monitor sees it disabled and replaces it on a new URL of the same endpoint.
                var replaced: [String: Any]?
                for _ in 0..<100 {
                    if let now = try await subscription(daemon), now["uri"] as? String != old { replaced = now; break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let new = try #require(replaced)
                #expect(new["state"] as? String == "active")
                #expect((new["callback_url"] as? String)?.hasPrefix(daemon.baseURL + "/webhooks/calendly/") == true)
                let event = try #require(try await daemon.allEvents().last { $0.type == CalendlySubscriptionSet.type })
                #expect(event.body.contains(#""replaces":"\#(old)""#) && event.body.contains(#""reason":"disabled""#))
                #expect(event.body.contains(#""retry_started_at":"#))
                // The old one is deleted at Calendly; the new one is the only one.
                var uris: [String] = []
                for _ in 0..<50 {
                    uris = try await listed(oauth).compactMap { $0["uri"] as? String }
                    if uris == [new["uri"] as? String ?? ""] { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(uris == [new["uri"] as? String ?? ""])
                let metrics = String(buffer: try await daemon.client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"availd_calendly_subscriptions{state="active"}"#))
            }
        }
    }

    @Test func disconnectingDeletesTheSubscription() async throws {
        try await withOAuth { oauth, browser in
            try await withDaemon(oauth.configuration()) { daemon in
                let token = try await OwnAccountEventTypesTests().connected(oauth, browser, daemon)
                #expect(try await listed(oauth).count == 1)
                #expect(try await OwnAccountEventTypesTests().asAda(daemon, token, .delete, "/experts/ada/integration").status == .ok)
                #expect(try await listed(oauth).isEmpty)
            }
        }
    }
}

/// An expert connected through the organization token: the page says whether the
/// organization's webhook subscription reaches availd, as its last check found it.
@Suite struct OrganizationSubscriptionPageTests {
    @Test func thePageSaysWhetherTheOrganizationsSubscriptionDeliversTheBookings() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withOAuth { oauth, _ in
            var configuration = oauth.configuration(organizationToken: "calendly-token-admin")
            configuration.databasePath = folder.path("availd.sqlite")
            try await withDaemon(configuration) { daemon in
                let token = try await CalendlyOAuthTests().ada(daemon)
                let connected = try await daemon.call(
                    .put, "/experts/ada/integration", json: #"{"type":"calendly","event_types":["\#(StandInUsers.adaThirty)"]}"#)
                #expect(connected.status == .ok)
                let none = try await OwnAccountPageTests().page(daemon, token: token)
                #expect(none.contains(#"id="organization-subscription" data-state="none""#))
                #expect(none.contains("learns of your bookings only when it compares with Calendly"))

                // What `availd calendly subscribe` records, and the monitor's check of it.
                let records = SubscriptionRecords(database: try LogDatabase.open(path: daemon.configuration.databasePath))
                let uri = "https://api.calendly.com/webhook_subscriptions/5f1b6d6e-8c2e-4a53-9a53-0f1a1b2c3d4e"
                try await records.add(OrganizationSubscription(
                    uri: uri, callbackURL: daemon.baseURL + "/webhooks/calendly", scope: .organization,
                    organization: SubscriptionTests.organization, user: nil, events: ["invitee.created", "invitee.canceled"],
                    createdAt: .now()))
                try await records.record(SubscriptionCheck(subscriptionURI: uri, expertID: nil, state: "active", checkedAt: .now()))
                let active = try await OwnAccountPageTests().page(daemon, token: token)
                #expect(active.contains(#"id="organization-subscription" data-state="active""#))
                #expect(active.contains("Calendly tells availd of your bookings as they happen"))

                try await records.record(SubscriptionCheck(subscriptionURI: uri, expertID: nil, state: "disabled", checkedAt: .now()))
                let disabled = try await OwnAccountPageTests().page(daemon, token: token)
                #expect(disabled.contains(#"data-state="disabled""#) && disabled.contains("Calendly stopped sending"))
            }
        }
    }
}
