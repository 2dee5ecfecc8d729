import AvailCore
import Foundation
import Testing

/// The iCalendar writer and the feed built from appointments: pure, no socket.
@Suite struct CalendarFeedTests {
    static func time(_ text: String) -> Timestamp { Timestamp(rfc3339: text)! }

    static func appointment(
        _ id: String, name: String? = "Nia Osei", status: AppointmentStatus = .scheduled, start: String? = "2026-03-02T10:00:00Z",
        rescheduledFrom: String? = nil
    ) -> Appointment {
        Appointment(
            id: id, expertID: "ada", calendarType: "native", externalCalendarEventID: nil, externalInviteeURI: nil, status: status,
            startTime: start.map(time), endTime: start.map { Timestamp(microseconds: time($0).microseconds + 3_600_000_000) },
            invitee: .init(name: name, email: "n@example.com", timezone: "UTC"), rescheduledFrom: rescheduledFrom, rescheduledTo: nil,
            cancellation: nil, noShow: false, createdAt: time("2026-02-01T08:00:00Z"), updatedAt: time("2026-02-03T08:30:00.5Z"))
    }

    static func lines(_ feed: CalendarFeed) -> [String] {
        let text = String(decoding: feed.render(), as: UTF8.self)
        // Unfolded: a CRLF followed by a space joins two lines.
        return Array(text.replacingOccurrences(of: "\r\n ", with: "").components(separatedBy: "\r\n").dropLast())
    }

    @Test func aFeedTokenRoundTripsThroughItsURLForm() {
        let token = CalendarFeedToken.generate()
        #expect(token.urlForm.utf8.count == CalendarFeedToken.urlLength)
        #expect(CalendarFeedToken(urlForm: token.urlForm) == token)
        #expect(CalendarFeedToken.isValidID(token.id))
        #expect(CalendarFeedToken.matches(secret: token.secret, storedHash: token.secretHash))
        #expect(!CalendarFeedToken.matches(secret: CalendarFeedToken.generate().secret, storedHash: token.secretHash))
    }

    @Test(arguments: [
        "", "x.ics", String(CalendarFeedToken.generate().urlForm.dropLast()), CalendarFeedToken.generate().urlForm + "A",
        { var t = Array(CalendarFeedToken.generate().urlForm); t[26] = "-"; return String(t) }(),
        { var t = Array(CalendarFeedToken.generate().urlForm); t[0] = "1"; return String(t) }(),
        { var t = Array(CalendarFeedToken.generate().urlForm); t[40] = "+"; return String(t) }(),
    ])
    func anythingElseIsNotAFeedToken(text: String) {
        #expect(CalendarFeedToken(urlForm: text) == nil)
    }

    @Test func textIsEscapedPerRFC5545() {
        #expect(ICalendarLines.escape(#"a\b;c,d"#) == #"a\\b\;c\,d"#)
        #expect(ICalendarLines.escape("one\ntwo\r\nthree\rfour") == #"one\ntwo\nthree\nfour"#)
        #expect(ICalendarLines.escape("bell\u{7}s\ttab") == "bells\ttab")
    }

    @Test func timesAreUTCInBasicForm() {
        #expect(ICalendarLines.utc(Self.time("2026-03-02T15:04:05.999999+01:00")) == "20260302T140405Z")
    }

    @Test func everyLineEndsWithCRLFAndIsAtMost75OctetsWithoutSplittingACharacter() throws {
        // 3- and 4-octet characters, so a cut at 75 octets would land inside one.
        let name = String(repeating: "李🎉", count: 40)
        let bytes = CalendarFeed(calendarName: name, appointments: [Self.appointment("a", name: name)], origins: [:]).render()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasSuffix("END:VCALENDAR\r\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        let physical = text.components(separatedBy: "\r\n").dropLast()
        for line in physical {
            #expect(line.utf8.count <= 75, "\(line.utf8.count) octets: \(line)")
        }
        // Folded lines each decode on their own: no UTF-8 sequence was split.
        var start = 0
        var raw = Array(bytes)
        raw.append(0)
        for index in raw.indices where index + 1 < raw.count && raw[index] == 13 && raw[index + 1] == 10 {
            #expect(String(validating: raw[start..<index], as: UTF8.self) != nil)
            start = index + 2
        }
        #expect(physical.filter { $0.hasPrefix(" ") }.count > 4)
        #expect(Self.lines(CalendarFeed(calendarName: name, appointments: [Self.appointment("a", name: name)], origins: [:]))
            .contains("SUMMARY:\(name)"))
    }

    @Test func theCalendarHasItsHeaderAndOneEventPerAppointment() {
        let feed = CalendarFeed(calendarName: "Ada, Lovelace", appointments: [Self.appointment("a", name: "Nia; Osei")], origins: [:])
        let lines = Self.lines(feed)
        #expect(Array(lines.prefix(6)) == [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//availd//calendar feed//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            #"X-WR-CALNAME:Ada\, Lovelace"#,
        ])
        #expect(lines.contains("UID:a@availd"))
        #expect(lines.contains("DTSTART:20260302T100000Z"))
        #expect(lines.contains("DTEND:20260302T110000Z"))
        #expect(lines.contains("DTSTAMP:20260203T083000Z"))
        #expect(lines.contains("LAST-MODIFIED:20260203T083000Z"))
        #expect(lines.contains(#"SUMMARY:Nia\; Osei"#))
        #expect(lines.contains("STATUS:CONFIRMED"))
        #expect(lines.contains("SEQUENCE:0"))
        #expect(lines.last == "END:VCALENDAR")
    }

    @Test func aRescheduledAppointmentKeepsItsChainsUIDAndCountsTheHops() {
        let appointments = [
            Self.appointment("first", status: .rescheduled),
            Self.appointment("second", status: .rescheduled, rescheduledFrom: "first"),
            Self.appointment("third", rescheduledFrom: "second"),
        ]
        let feed = CalendarFeed(calendarName: "Ada", appointments: appointments, origins: ["third": .init(firstID: "first", hops: 2)])
        let lines = Self.lines(feed)
        #expect(lines.filter { $0 == "BEGIN:VEVENT" }.count == 1)
        #expect(lines.contains("UID:first@availd"))
        #expect(lines.contains("SEQUENCE:2"))
    }

    @Test func aCanceledAppointmentStaysAsCancelledWithItsSequenceRaised() {
        let lines = Self.lines(CalendarFeed(calendarName: "Ada", appointments: [Self.appointment("a", status: .canceled)], origins: [:]))
        #expect(lines.contains("STATUS:CANCELLED"))
        #expect(lines.contains("SEQUENCE:1"))
    }

    @Test func anAppointmentWithoutAStartTimeIsLeftOut() {
        let lines = Self.lines(CalendarFeed(calendarName: "Ada", appointments: [Self.appointment("a", start: nil)], origins: [:]))
        #expect(!lines.contains("BEGIN:VEVENT"))
    }

    @Test func theSameAppointmentsGiveTheSameBytes() {
        let feed = CalendarFeed(calendarName: "Ada", appointments: [Self.appointment("a")], origins: [:])
        #expect(feed.render() == feed.render())
    }
}
