import AvailCore
import Foundation
import NIOHTTP1
import Testing

/// The settings page's "Subscribe in my calendar" card, driven as its script drives it: the
/// JSON API with the session cookie and the page's CSRF token.
@Suite struct CalendarFeedSettingsPageTests {
    @Test func theCardCreatesListsAndRevokesFeedsWithTheCSRFToken() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let token = try await daemon.issueToken(for: "ada", label: nil).token
            let (browser, csrf) = try await SettingsPageTests.signedIn(daemon, token: token)

            let empty = try await browser.request(.GET, "/experts/ada/availability-settings")
            #expect(empty.text.contains("Subscribe in my calendar"))
            #expect(empty.text.contains(#"<button type="button" id="create-feed">"#))
            #expect(empty.text.contains(#"<label for="new-feed-url">"#) && empty.text.contains(#"<input id="new-feed-url" type="text" readonly"#))
            #expect(empty.text.contains(#"id="copy-feed""#))
            #expect(empty.text.contains(#"<p class="muted" id="no-feeds" >"#))

            let forged = try await browser.request(.POST, "/experts/ada/calendar-feeds")
            #expect(forged.status == 403)
            #expect(forged.text.contains("csrf_failed"))
            let created = try await browser.request(.POST, "/experts/ada/calendar-feeds", headers: ["X-CSRF-Token": csrf])
            #expect(created.status == 201)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(created.text.utf8)) as? [String: Any])
            let id = try #require(json["id"] as? String)
            let url = try #require(json["url"] as? String)

            let listed = try await browser.request(.GET, "/experts/ada/availability-settings")
            #expect(listed.text.contains(#"<li data-feed="\#(id)"><span>Created "#))
            #expect(listed.text.contains(#"class="link revoke-feed" aria-label="Revoke the calendar address created "#))
            #expect(!listed.text.contains(String(url.split(separator: "/").last!.dropLast(4))), "the URL is shown only once")
            #expect(listed.text.contains(#"id="no-feeds" hidden>"#))

            let revoked = try await browser.request(.DELETE, "/experts/ada/calendar-feeds/\(id)", headers: ["X-CSRF-Token": csrf])
            #expect(revoked.status == 204)
            let after = try await browser.request(.GET, "/experts/ada/availability-settings")
            #expect(!after.text.contains(id))
        }
    }
}
