import AvailCore
import AvailServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The expert's calendar feed: created, listed and revoked over the API, fetched by URL.
@Suite struct CalendarFeedOverHTTPTests {
    static func at(_ hour: Int) -> String { BookingOverHTTPTests.at(hour) }

    struct Created: Decodable {
        var id: String
        var url: String
    }

    /// Ada on a native schedule, and a feed of hers; the feed's path on the daemon.
    static func adaWithFeed(_ daemon: Daemon) async throws -> (Created, String) {
        try await BookingOverHTTPTests().nativeAda(daemon)
        let created = try await daemon.call(.post, "/experts/ada/calendar-feeds")
        #expect(created.status == .created)
        #expect(created.headers[.cacheControl] == "no-store")
        let feed = try JSONDecoder().decode(Created.self, from: created.body)
        #expect(feed.url.hasPrefix(daemon.baseURL + "/calendar/"))
        #expect(feed.url.hasSuffix(".ics"))
        return (feed, String(feed.url.dropFirst(daemon.baseURL.count)))
    }

    static func fetch(_ daemon: Daemon, _ path: String, headers: HTTPFields = [:]) async throws -> Daemon.JSONAnswer {
        let response = try await daemon.client.execute(uri: path, method: .get, headers: headers)
        return Daemon.JSONAnswer(status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
    }

    /// The feed's lines, unfolded.
    static func lines(_ answer: Daemon.JSONAnswer) -> [String] {
        Array(String(decoding: answer.body, as: UTF8.self).replacingOccurrences(of: "\r\n ", with: "")
            .components(separatedBy: "\r\n").dropLast())
    }

    /// The `VEVENT`s' lines, one array each.
    static func events(_ answer: Daemon.JSONAnswer) -> [[String]] {
        var events: [[String]] = []
        for line in lines(answer) {
            if line == "BEGIN:VEVENT" { events.append([]) } else if line != "END:VEVENT", !events.isEmpty { events[events.count - 1].append(line) }
        }
        return events
    }

    @Test func aFeedIsCreatedListedWithoutItsSecretAndRevokedAtOnce() async throws {
        try await withDaemon { daemon in
            let (feed, path) = try await Self.adaWithFeed(daemon)
            let served = try await Self.fetch(daemon, path)
            #expect(served.status == .ok)
            #expect(served.headers[.contentType] == "text/calendar; charset=utf-8")
            #expect(served.headers[.cacheControl] == "private, max-age=60")

            let listed = try await daemon.call(.get, "/experts/ada/calendar-feeds")
            let feeds = try #require(listed.json["feeds"] as? [[String: Any]])
            #expect(feeds.map { $0["id"] as? String } == [feed.id])
            #expect(feeds.first?["created_at"] is String)
            let secret = String(path.dropFirst("/calendar/".count).dropLast(4).dropFirst(27))
            #expect(!String(decoding: listed.body, as: UTF8.self).contains(secret))
            #expect(feeds.first?["url"] == nil)

            let revoked = try await daemon.call(.delete, "/experts/ada/calendar-feeds/\(feed.id)")
            #expect(revoked.status == .noContent)
            let gone = try await Self.fetch(daemon, path)
            #expect(gone.status == .notFound)
            #expect(gone.problem?.code == "not_found")
            let after = try await daemon.call(.get, "/experts/ada/calendar-feeds")
            #expect((after.json["feeds"] as? [Any])?.isEmpty == true)
            let again = try await daemon.call(.delete, "/experts/ada/calendar-feeds/\(feed.id)")
            #expect(again.problem?.code == "not_found")
        }
    }

    @Test(arguments: ["/calendar/nothing.ics", "/calendar/\(CalendarFeedToken.generate().urlForm).ics",
                      "/calendar/\(CalendarFeedToken.generate().urlForm)"])
    func anUnknownFeedIsNotFound(path: String) async throws {
        try await withDaemon { daemon in
            _ = try await Self.adaWithFeed(daemon)
            let answer = try await Self.fetch(daemon, path)
            #expect(answer.status == .notFound)
            #expect(answer.problem?.code == "not_found")
        }
    }

    @Test func aRightIDWithAWrongSecretIsNotFound() async throws {
        try await withDaemon { daemon in
            let (_, path) = try await Self.adaWithFeed(daemon)
            let forged = String(path.dropLast(5)) + (path.dropLast(4).hasSuffix("A") ? "B" : "A") + ".ics"
            #expect(try await Self.fetch(daemon, forged).status == .notFound)
        }
    }

    @Test func anotherExpertsTokenCannotCreateListOrRevokeSomeoneElsesFeeds() async throws {
        try await withDaemon { daemon in
            let (feed, path) = try await Self.adaWithFeed(daemon)
            let grace = try await daemon.issueToken(for: "grace", label: nil)
            let bearer = "Bearer \(grace.token)"
            for call in [
                AccessTests.Call(method: .post, path: "/experts/ada/calendar-feeds"),
                AccessTests.Call(method: .get, path: "/experts/ada/calendar-feeds"),
                AccessTests.Call(method: .delete, path: "/experts/ada/calendar-feeds/\(feed.id)"),
                AccessTests.Call(method: .delete, path: "/experts/grace/calendar-feeds/\(feed.id)"),
            ] {
                let answer = try await daemon.call(call, authorization: bearer)
                #expect(answer.status == .notFound, "\(call)")
                #expect(answer.problem?.code == "not_found", "\(call)")
            }
            #expect(try await Self.fetch(daemon, path).status == .ok)
            // Her own token does all of it for her own feeds, and nothing without one.
            let own = try await daemon.call(AccessTests.Call(method: .post, path: "/experts/grace/calendar-feeds"), authorization: bearer)
            #expect(own.status == .created)
            let anonymous = try await daemon.call(AccessTests.Call(method: .post, path: "/experts/grace/calendar-feeds"), authorization: nil)
            #expect(anonymous.problem?.code == "unauthorized")
        }
    }

    @Test func theFeedIsRFC5545WithEscapedFoldedSummariesAndUTCTimes() async throws {
        try await withDaemon { daemon in
            let (_, path) = try await Self.adaWithFeed(daemon)
            let name = #"Zoë \ Nakamura; "李小龍", "# + String(repeating: "🎉李", count: 20)
            let booking = #"{"start_time":"\#(Self.at(10))","invitee":{"name":"\#(name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))","email":"z@example.com","timezone":"UTC"}}"#
            let booked = try await daemon.call(.post, "/experts/ada/appointments", json: booking)
            #expect(booked.status == .created, "\(String(decoding: booked.body, as: UTF8.self))")
            let id = try #require(booked.json["id"] as? String)

            let served = try await Self.fetch(daemon, path)
            let text = String(decoding: served.body, as: UTF8.self)
            let physical = text.components(separatedBy: "\r\n")
            #expect(physical.last == "")
            #expect(physical.dropLast().allSatisfy { $0.utf8.count <= 75 && !$0.contains("\n") && !$0.contains("\r") })
            #expect(physical.contains { $0.hasPrefix(" ") })
            let lines = Self.lines(served)
            #expect(Array(lines.prefix(5)) == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//availd//calendar feed//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"])
            #expect(lines.contains("X-WR-CALNAME:Ada Lovelace (availd)"))
            let event = try #require(Self.events(served).first)
            #expect(event.contains("UID:\(id)@availd"))
            #expect(event.contains(#"SUMMARY:Zoë \\ Nakamura\; "李小龍"\, "# + String(repeating: "🎉李", count: 20)))
            let day = "\(BookingOverHTTPTests.monday)".replacingOccurrences(of: "-", with: "")
            #expect(event.contains("DTSTART:\(day)T100000Z"))
            #expect(event.contains("DTEND:\(day)T110000Z"))
            #expect(event.contains("STATUS:CONFIRMED"))
            #expect(event.contains { $0.hasPrefix("DTSTAMP:") && $0.hasSuffix("Z") && $0.count == "DTSTAMP:".count + 16 })
            #expect(event.contains { $0.hasPrefix("LAST-MODIFIED:") })
            #expect(lines.last == "END:VCALENDAR")
        }
    }

    @Test func aRescheduleKeepsTheUIDAndRaisesTheSequenceAndACancellationStaysAsCancelled() async throws {
        try await withDaemon { daemon in
            let (_, path) = try await Self.adaWithFeed(daemon)
            let booked = try await daemon.call(.post, "/experts/ada/appointments", json: BookingOverHTTPTests.booking(9))
            let first = try #require(booked.json["id"] as? String)
            let moved = try await daemon.call(.patch, "/appointments/\(first)", json: #"{"start_time":"\#(Self.at(11))"}"#)
            let second = try #require(moved.json["id"] as? String)
            #expect(second != first)

            let afterMove = Self.events(try await Self.fetch(daemon, path))
            #expect(afterMove.count == 1)
            #expect(afterMove.first?.contains("UID:\(first)@availd") == true)
            #expect(afterMove.first?.contains("SEQUENCE:1") == true)
            #expect(afterMove.first?.contains { $0.hasPrefix("DTSTART:") && $0.hasSuffix("T110000Z") } == true)

            let canceled = try await daemon.call(.post, "/appointments/\(second)/cancel", json: #"{"reason":"Unwell"}"#)
            #expect(canceled.status == .ok)
            let afterCancel = Self.events(try await Self.fetch(daemon, path))
            #expect(afterCancel.count == 1)
            #expect(afterCancel.first?.contains("UID:\(first)@availd") == true)
            #expect(afterCancel.first?.contains("STATUS:CANCELLED") == true)
            #expect(afterCancel.first?.contains("SEQUENCE:2") == true)
        }
    }

    @Test func aMatchingIfNoneMatchIsNotModifiedUntilTheFeedChanges() async throws {
        try await withDaemon { daemon in
            let (_, path) = try await Self.adaWithFeed(daemon)
            let first = try await Self.fetch(daemon, path)
            let etag = try #require(first.headers[.eTag])
            #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
            #expect(try await Self.fetch(daemon, path).headers[.eTag] == etag)

            let unchanged = try await Self.fetch(daemon, path, headers: [.ifNoneMatch: "\"other\", \(etag)"])
            #expect(unchanged.status == .notModified)
            #expect(unchanged.body.isEmpty)
            #expect(unchanged.headers[.eTag] == etag)
            #expect(try await Self.fetch(daemon, path, headers: [.ifNoneMatch: "\"other\""]).status == .ok)

            _ = try await daemon.call(.post, "/experts/ada/appointments", json: BookingOverHTTPTests.booking(10))
            let changed = try await Self.fetch(daemon, path, headers: [.ifNoneMatch: etag])
            #expect(changed.status == .ok)
            #expect(changed.headers[.eTag] != etag)
            #expect(Self.events(changed).count == 1)
        }
    }
}
