@testable import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

/// Native slot generation, DST above all (the README, "The read models": a native schedule).
@Suite struct SlotCalculatorTests {
    static func time(_ text: String) -> Timestamp { Timestamp(rfc3339: text)! }

    static func schedule(
        _ zone: String, _ rules: [ScheduleRule], duration: Int = 30, before: Int = 0, after: Int = 0, notice: Int = 0
    ) throws -> SlotCalculator {
        try SlotCalculator(schedule: NativeSchedule(
            timezone: zone, durationMinutes: duration, rules: rules, bufferBeforeMinutes: before,
            bufferAfterMinutes: after, minNoticeMinutes: notice))
    }

    static func every(_ days: [Weekday], _ from: String, _ to: String) -> [ScheduleRule] {
        days.map { ScheduleRule(.weekday($0), [WallInterval(from, to)!]) }
    }

    static let longAgo = time("2020-01-01T00:00:00Z")

    /// The UTC starts of the slots between two instants.
    static func starts(_ calculator: SlotCalculator, _ from: String, _ to: String, busy: [TimeRange] = [], now: Timestamp = longAgo) -> [String] {
        calculator.slots(in: TimeRange(start: time(from), end: time(to)), now: now, busy: busy).map { "\($0.start)" }
    }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var zone: String
        var day: Weekday
        var from: String
        var to: String
        var duration: Int
        var rangeStart: String
        var rangeEnd: String
        var expected: [String]
    }

    static let dstCases: [Case] = [
        // 09:00 stays 09:00 local: the UTC instant moves with the offset.
        Case(description: "Berlin 09:00 across the spring change", zone: "Europe/Berlin", day: .sunday, from: "09:00", to: "09:30", duration: 30,
             rangeStart: "2026-03-22T00:00:00Z", rangeEnd: "2026-04-06T00:00:00Z",
             expected: ["2026-03-22T08:00:00.000000Z", "2026-03-29T07:00:00.000000Z", "2026-04-05T07:00:00.000000Z"]),
        Case(description: "Berlin 09:00 across the autumn change", zone: "Europe/Berlin", day: .sunday, from: "09:00", to: "09:30", duration: 30,
             rangeStart: "2026-10-18T00:00:00Z", rangeEnd: "2026-11-02T00:00:00Z",
             expected: ["2026-10-18T07:00:00.000000Z", "2026-10-25T08:00:00.000000Z", "2026-11-01T08:00:00.000000Z"]),
        Case(description: "New York 09:00 across the spring change", zone: "America/New_York", day: .sunday, from: "09:00", to: "09:30", duration: 30,
             rangeStart: "2026-03-01T00:00:00Z", rangeEnd: "2026-03-09T00:00:00Z",
             expected: ["2026-03-01T14:00:00.000000Z", "2026-03-08T13:00:00.000000Z"]),
        Case(description: "Sydney 09:00 across the spring change", zone: "Australia/Sydney", day: .sunday, from: "09:00", to: "09:30", duration: 30,
             rangeStart: "2026-09-26T00:00:00Z", rangeEnd: "2026-10-05T00:00:00Z",
             expected: ["2026-09-26T23:00:00.000000Z", "2026-10-03T22:00:00.000000Z"]),
        // The spring-forward gap: wall times that do not exist are not offered.
        Case(description: "Berlin 02:00 and 02:30 do not exist on 29 March", zone: "Europe/Berlin", day: .sunday, from: "02:00", to: "04:00", duration: 30,
             rangeStart: "2026-03-28T12:00:00Z", rangeEnd: "2026-03-29T12:00:00Z",
             expected: ["2026-03-29T01:00:00.000000Z", "2026-03-29T01:30:00.000000Z"]),
        Case(description: "New York 02:30 does not exist on 8 March", zone: "America/New_York", day: .sunday, from: "02:00", to: "03:30", duration: 30,
             rangeStart: "2026-03-08T00:00:00Z", rangeEnd: "2026-03-09T00:00:00Z",
             expected: ["2026-03-08T07:00:00.000000Z"]),
        Case(description: "Sydney 02:30 does not exist on 4 October", zone: "Australia/Sydney", day: .sunday, from: "02:00", to: "03:30", duration: 30,
             rangeStart: "2026-10-03T00:00:00Z", rangeEnd: "2026-10-04T12:00:00Z",
             expected: ["2026-10-03T16:00:00.000000Z"]),
        // The autumn hour: each ambiguous wall time is offered once, at its first occurrence.
        Case(description: "Berlin 02:00–03:00 happens twice on 25 October", zone: "Europe/Berlin", day: .sunday, from: "02:00", to: "03:00", duration: 30,
             rangeStart: "2026-10-24T12:00:00Z", rangeEnd: "2026-10-25T12:00:00Z",
             expected: ["2026-10-25T00:00:00.000000Z", "2026-10-25T00:30:00.000000Z"]),
        Case(description: "New York 01:00–02:00 happens twice on 1 November", zone: "America/New_York", day: .sunday, from: "01:00", to: "02:00", duration: 30,
             rangeStart: "2026-11-01T00:00:00Z", rangeEnd: "2026-11-02T00:00:00Z",
             expected: ["2026-11-01T05:00:00.000000Z", "2026-11-01T05:30:00.000000Z"]),
        Case(description: "Sydney 02:00–03:00 happens twice on 5 April", zone: "Australia/Sydney", day: .sunday, from: "02:00", to: "03:00", duration: 30,
             rangeStart: "2026-04-04T00:00:00Z", rangeEnd: "2026-04-05T12:00:00Z",
             expected: ["2026-04-04T15:00:00.000000Z", "2026-04-04T15:30:00.000000Z"]),
        Case(description: "Berlin hourly slots through the autumn night", zone: "Europe/Berlin", day: .sunday, from: "00:00", to: "04:00", duration: 60,
             rangeStart: "2026-10-24T12:00:00Z", rangeEnd: "2026-10-25T12:00:00Z",
             expected: ["2026-10-24T22:00:00.000000Z", "2026-10-24T23:00:00.000000Z", "2026-10-25T00:00:00.000000Z", "2026-10-25T02:00:00.000000Z"]),
    ]

    @Test(arguments: dstCases)
    func slotsFollowTheWallClockAcrossDST(example: Case) throws {
        let calculator = try Self.schedule(example.zone, Self.every([example.day], example.from, example.to), duration: example.duration)
        #expect(Self.starts(calculator, example.rangeStart, example.rangeEnd) == example.expected)
    }

    @Test func aDateRuleReplacesItsWeekday() throws {
        let rules = Self.every([.thursday], "09:00", "11:00") + [
            ScheduleRule(.date(LocalDate("2026-12-24")!), []),
            ScheduleRule(.date(LocalDate("2026-12-31")!), [WallInterval("14:00", "15:00")!]),
        ]
        let calculator = try Self.schedule("UTC", rules, duration: 60)
        #expect(Self.starts(calculator, "2026-12-17T00:00:00Z", "2027-01-01T00:00:00Z") == [
            "2026-12-17T09:00:00.000000Z", "2026-12-17T10:00:00.000000Z", "2026-12-31T14:00:00.000000Z",
        ])
    }

    @Test func appointmentsBlockTheirSlotsPlusBuffers() throws {
        let calculator = try Self.schedule("UTC", Self.every([.monday], "09:00", "12:00"), duration: 30, before: 15, after: 10)
        let busy = [TimeRange(start: Self.time("2026-12-07T10:00:00Z"), end: Self.time("2026-12-07T10:30:00Z"))]
        // 09:30 ends 10:00, +10 min after overlaps; 10:30 starts 10:30, −15 min before overlaps.
        #expect(Self.starts(calculator, "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z", busy: busy) == [
            "2026-12-07T09:00:00.000000Z", "2026-12-07T11:00:00.000000Z", "2026-12-07T11:30:00.000000Z",
        ])
    }

    @Test func minimumNoticeHidesTheNearSlots() throws {
        let calculator = try Self.schedule("UTC", Self.every([.monday], "09:00", "12:00"), duration: 60, notice: 90)
        #expect(Self.starts(calculator, "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z", now: Self.time("2026-12-07T08:45:00Z")) == [
            "2026-12-07T11:00:00.000000Z"  // 08:45 + 90 min = 10:15: the 09:00 and 10:00 slots are too near
        ])
    }

    @Test func offersOnlyGridStartsInsideTheSchedule() throws {
        let calculator = try Self.schedule("Europe/Berlin", Self.every([.monday], "09:00", "12:00"), duration: 30)
        #expect(calculator.offers(Self.time("2026-12-07T08:30:00Z"), now: Self.longAgo, busy: []))
        #expect(!calculator.offers(Self.time("2026-12-07T08:15:00Z"), now: Self.longAgo, busy: []))
        #expect(!calculator.offers(Self.time("2026-12-07T11:00:00Z"), now: Self.longAgo, busy: []))
        #expect(!calculator.offers(Self.time("2026-12-08T08:30:00Z"), now: Self.longAgo, busy: []))
    }

    @Test(arguments: [
        (#"{"timezone":"Mars/Olympus","duration_minutes":30,"rules":[]}"#, "timezone"),
        (#"{"timezone":"UTC","duration_minutes":0,"rules":[]}"#, "duration_minutes"),
        (#"{"timezone":"UTC","duration_minutes":30,"rules":[],"buffer_after_minutes":-5}"#, "buffer_after_minutes"),
        (#"{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"wday","wday":"monday","intervals":[{"from":"10:00","to":"09:00"}]}]}"#, "rules[0].intervals"),
        (#"{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"wday","wday":"monday","intervals":[{"from":"09:00","to":"12:00"},{"from":"11:00","to":"13:00"}]}]}"#, "rules[0].intervals"),
        (#"{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"wday","wday":"monday","intervals":[]},{"type":"wday","wday":"monday","intervals":[]}]}"#, "rules[1].wday"),
    ])
    func refusesASchedulePeopleCouldNotMean(json: String, field: String) throws {
        let schedule = try JSONDecoder().decode(NativeSchedule.self, from: Data(json.utf8))
        #expect(throws: ScheduleError.self) { try schedule.validate() }
        do { try schedule.validate() } catch { #expect(error.field == field) }
    }

    @Test(arguments: [
        #"{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"wday","wday":"funday","intervals":[]}]}"#,
        #"{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"date","date":"2026-02-30","intervals":[]}]}"#,
        #"{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"wday","wday":"monday","intervals":[{"from":"9:00","to":"24:30"}]}]}"#,
        #"{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"week","intervals":[]}]}"#,
    ])
    func refusesMalformedRules(json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(NativeSchedule.self, from: Data(json.utf8)) }
    }

    @Test func roundTripsCalendlysRuleShape() throws {
        let json = #"{"buffer_after_minutes":5,"buffer_before_minutes":0,"duration_minutes":30,"min_notice_minutes":60,"rules":[{"intervals":[{"from":"09:00","to":"17:00"}],"type":"wday","wday":"monday"},{"date":"2026-12-24","intervals":[],"type":"date"}],"timezone":"Europe/Berlin"}"#
        let schedule = try JSONDecoder().decode(NativeSchedule.self, from: Data(json.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(String(decoding: try encoder.encode(schedule), as: UTF8.self) == json)
    }

    @Test func localDatesKnowTheirWeekday() {
        #expect(LocalDate("1970-01-01")?.weekday == .thursday)
        #expect(LocalDate("2026-11-25")?.weekday == .wednesday)
        #expect(LocalDate("2000-02-29")?.description == "2000-02-29")
        #expect(LocalDate("2100-02-29") == nil)
    }
}

@Suite struct BusyTimesTests {
    /// The binary search agrees with checking every busy span, on random spans.
    @Test func agreesWithALinearScan() {
        var random = SplitMix64(seed: 7)
        func span(_ base: Int64, _ width: Int64) -> TimeRange {
            let start = base + Int64(random.next() % UInt64(width))
            return TimeRange(start: Timestamp(microseconds: start), end: Timestamp(microseconds: start + 1 + Int64(random.next() % 500)))
        }
        for _ in 0..<200 {
            let busy = (0..<Int(random.next() % 20)).map { _ in span(0, 5_000) }
            let index = BusyTimes(busy)
            for _ in 0..<50 {
                let probe = span(-500, 6_000)
                #expect(index.overlaps(probe) == busy.contains { $0.overlaps(probe) })
            }
        }
    }
}
