import Foundation

/// A half-open span of time, `[start, end)`.
public struct TimeRange: Sendable, Equatable, Hashable {
    public var start: Timestamp
    public var end: Timestamp

    public init(start: Timestamp, end: Timestamp) {
        self.start = start
        self.end = end
    }

    public func overlaps(_ other: TimeRange) -> Bool {
        start < other.end && other.start < end
    }
}

/// The slots a native schedule offers: a pure function of the schedule, the range asked for,
/// the current time and the busy times (existing appointments).
///
/// Times are wall-clock in the schedule's zone, so a 09:00 slot stays at 09:00 across a DST
/// change. A wall-clock start that does not exist that day (the spring-forward gap) is not
/// offered; one that exists twice (the autumn hour) is offered once, at its first occurrence.
public struct SlotCalculator: Sendable {
    public let schedule: NativeSchedule
    private let zone: TimeZone

    public init(schedule: NativeSchedule) throws(ScheduleError) {
        try schedule.validate()
        self.schedule = schedule
        self.zone = TimeZone(identifier: schedule.timezone)!
    }

    /// Slots starting in `range`, at least `min_notice` after `now`, whose span widened by the
    /// buffers overlaps none of `busy`. Ordered by start.
    public func slots(in range: TimeRange, now: Timestamp, busy: [TimeRange]) -> [TimeRange] {
        let duration = Int64(schedule.durationMinutes) * 60_000_000
        let before = Int64(schedule.bufferBeforeMinutes) * 60_000_000
        let after = Int64(schedule.bufferAfterMinutes) * 60_000_000
        let earliest = max(range.start, Timestamp(microseconds: now.microseconds + Int64(schedule.minNoticeMinutes) * 60_000_000))
        let busy = BusyTimes(busy)
        var slots: [TimeRange] = []
        // Local dates that can hold a slot starting in the range: one day of margin either
        // side covers every UTC offset (−12 h … +14 h).
        var date = localDate(of: range.start).adding(days: -1)
        let lastDate = localDate(of: range.end).adding(days: 1)
        while date <= lastDate {
            let intervals = intervals(on: date)
            // Most days have one UTC offset throughout: then every wall time maps directly.
            // Only on a day whose neighbourhood changes offset is each slot resolved exactly.
            let steadyOffset = intervals.isEmpty ? nil : steadyOffset(around: date)
            for interval in intervals {
                var minute = interval.from
                while minute + schedule.durationMinutes <= interval.to {
                    defer { minute += schedule.durationMinutes }
                    let exact = steadyOffset.map { Timestamp(microseconds: (Int64(date.day) * 86_400 + Int64(minute) * 60 - $0) * 1_000_000) }
                    guard let start = exact ?? instant(date, minute) else { continue }
                    guard start >= earliest, start < range.end else { continue }
                    let slot = TimeRange(start: start, end: Timestamp(microseconds: start.microseconds + duration))
                    let widened = TimeRange(
                        start: Timestamp(microseconds: slot.start.microseconds - before),
                        end: Timestamp(microseconds: slot.end.microseconds + after))
                    if !busy.overlaps(widened) { slots.append(slot) }
                }
            }
            date = date.adding(days: 1)
        }
        // An ambiguous hour can map two dates' wall times onto one instant only in exotic
        // zones; keep the answer strictly ordered and unique regardless.
        var seen = Set<Int64>()
        return slots.sorted { $0.start < $1.start }.filter { seen.insert($0.start.microseconds).inserted }
    }

    /// Is `start` a slot the schedule offers (on the grid, inside an interval), busy times aside?
    public func offers(_ start: Timestamp, now: Timestamp, busy: [TimeRange]) -> Bool {
        let day = TimeRange(start: start, end: Timestamp(microseconds: start.microseconds + 1))
        return slots(in: day, now: now, busy: busy).first?.start == start
    }

    /// The intervals of `date`: its `date` rule if there is one, else its weekday's.
    func intervals(on date: LocalDate) -> [WallInterval] {
        if let rule = schedule.rules.first(where: { $0.day == .date(date) }) { return rule.intervals }
        return schedule.rules.first(where: { $0.day == .weekday(date.weekday) })?.intervals ?? []
    }

    /// The local date of `time` in the schedule's zone.
    func localDate(of time: Timestamp) -> LocalDate {
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(time.unixSeconds))))
        return LocalDate(daysSinceEpoch: Int((time.unixSeconds + offset).floorDiv(86_400)))
    }

    /// The zone's offset on `date` when it is the same from the day before to the day after
    /// (zones change offset at most once in such a span); nil around a change.
    func steadyOffset(around date: LocalDate) -> Int64? {
        let wall = Int64(date.day) * 86_400
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(wall - 86_400)))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(wall + 2 * 86_400)))
        return before == after ? Int64(before) : nil
    }

    /// The first instant whose wall-clock time in the zone is `date` at `minute`, or nil when
    /// that wall-clock time does not exist (skipped by a DST change).
    func instant(_ date: LocalDate, _ minute: Int) -> Timestamp? {
        let wall = Int64(date.day) * 86_400 + Int64(minute) * 60
        // The offsets in force a day before and a day after; a zone changes offset at most
        // once in between, so these are the only candidates.
        let offsets = Set([-86_400, 86_400].map { Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(wall + Int64($0))))) })
        let candidates = offsets.map { wall - $0 }.filter { candidate in
            Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(candidate)))) == wall - candidate
        }
        return candidates.min().map { Timestamp(microseconds: $0 * 1_000_000) }
    }

}

/// Busy spans, sorted by start, with the running maximum of their ends: whether a span
/// overlaps any of them is one binary search, however many there are.
struct BusyTimes {
    private let starts: [Int64]
    private let maximumEnds: [Int64]

    init(_ ranges: [TimeRange]) {
        let sorted = ranges.sorted { $0.start < $1.start }
        starts = sorted.map(\.start.microseconds)
        var running = Int64.min
        maximumEnds = sorted.map { range in
            running = max(running, range.end.microseconds)
            return running
        }
    }

    func overlaps(_ range: TimeRange) -> Bool {
        // Those starting before `range` ends are the first `count`; one of them overlaps iff
        // the latest end among them is after `range` starts.
        var low = 0, high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] < range.end.microseconds { low = middle + 1 } else { high = middle }
        }
        return low > 0 && maximumEnds[low - 1] > range.start.microseconds
    }
}
