import Foundation

/// An expert's own weekly hours, in Calendly's availability-rule shape (the README, "The read models":
/// a native schedule): wall-clock intervals per weekday, `date` rules that replace a day's weekly rule,
/// in one IANA time zone.
public struct NativeSchedule: Codable, Sendable, Equatable {
    public var timezone: String
    public var durationMinutes: Int
    public var rules: [ScheduleRule]
    public var bufferBeforeMinutes: Int
    public var bufferAfterMinutes: Int
    public var minNoticeMinutes: Int

    public init(
        timezone: String, durationMinutes: Int, rules: [ScheduleRule], bufferBeforeMinutes: Int = 0,
        bufferAfterMinutes: Int = 0, minNoticeMinutes: Int = 0
    ) {
        self.timezone = timezone
        self.durationMinutes = durationMinutes
        self.rules = rules
        self.bufferBeforeMinutes = bufferBeforeMinutes
        self.bufferAfterMinutes = bufferAfterMinutes
        self.minNoticeMinutes = minNoticeMinutes
    }

    enum CodingKeys: String, CodingKey {
        case timezone, rules
        case durationMinutes = "duration_minutes", bufferBeforeMinutes = "buffer_before_minutes"
        case bufferAfterMinutes = "buffer_after_minutes", minNoticeMinutes = "min_notice_minutes"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        timezone = try container.decode(String.self, forKey: .timezone)
        durationMinutes = try container.decode(Int.self, forKey: .durationMinutes)
        rules = try container.decode([ScheduleRule].self, forKey: .rules)
        bufferBeforeMinutes = try container.decodeIfPresent(Int.self, forKey: .bufferBeforeMinutes) ?? 0
        bufferAfterMinutes = try container.decodeIfPresent(Int.self, forKey: .bufferAfterMinutes) ?? 0
        minNoticeMinutes = try container.decodeIfPresent(Int.self, forKey: .minNoticeMinutes) ?? 0
    }

    /// IANA names this machine knows, read once.
    public static let knownZones = Set(TimeZone.knownTimeZoneIdentifiers + ["UTC"])

    /// Refuses a schedule availd could not honour, naming the field.
    public func validate() throws(ScheduleError) {
        guard Self.knownZones.contains(timezone), TimeZone(identifier: timezone) != nil else { throw ScheduleError(field: "timezone", "must be an IANA time zone such as Europe/Berlin") }
        guard (5...1440).contains(durationMinutes) else {
            throw ScheduleError(field: "duration_minutes", "must be between 5 and 1440")
        }
        for (name, value) in [
            ("buffer_before_minutes", bufferBeforeMinutes), ("buffer_after_minutes", bufferAfterMinutes),
        ] where !(0...1440).contains(value) {
            throw ScheduleError(field: name, "must be between 0 and 1440")
        }
        guard (0...525_600).contains(minNoticeMinutes) else {
            throw ScheduleError(field: "min_notice_minutes", "must be between 0 and 525600")
        }
        guard rules.count <= 1000 else { throw ScheduleError(field: "rules", "has more than 1000 rules") }
        var weekdays = Set<Weekday>()
        var dates = Set<LocalDate>()
        for (index, rule) in rules.enumerated() {
            switch rule.day {
            case .weekday(let day):
                guard weekdays.insert(day).inserted else { throw ScheduleError(field: "rules[\(index)].wday", "repeats \(day.rawValue)") }
            case .date(let date):
                guard dates.insert(date).inserted else { throw ScheduleError(field: "rules[\(index)].date", "repeats \(date)") }
            }
            let intervals = rule.intervals.sorted { $0.from < $1.from }
            for (offset, interval) in intervals.enumerated() {
                guard interval.from < interval.to else {
                    throw ScheduleError(field: "rules[\(index)].intervals", "\(interval.from)–\(interval.to) does not end after it starts")
                }
                if offset > 0, intervals[offset - 1].to > interval.from {
                    throw ScheduleError(field: "rules[\(index)].intervals", "intervals overlap")
                }
            }
        }
    }
}

public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String

    public init(field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// One rule: the intervals of a weekday, or of one date (which replaces its weekday's rule;
/// no intervals means unavailable that day).
public struct ScheduleRule: Codable, Sendable, Equatable {
    public enum Day: Sendable, Equatable, Hashable {
        case weekday(Weekday)
        case date(LocalDate)
    }

    public var day: Day
    public var intervals: [WallInterval]

    public init(_ day: Day, _ intervals: [WallInterval]) {
        self.day = day
        self.intervals = intervals
    }

    enum CodingKeys: String, CodingKey { case type, wday, date, intervals }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "wday":
            let name = try container.decode(String.self, forKey: .wday)
            guard let weekday = Weekday(rawValue: name) else {
                throw DecodingError.dataCorruptedError(forKey: .wday, in: container, debugDescription: "must be a weekday such as monday")
            }
            day = .weekday(weekday)
        case "date":
            let text = try container.decode(String.self, forKey: .date)
            guard let date = LocalDate(text) else {
                throw DecodingError.dataCorruptedError(forKey: .date, in: container, debugDescription: "must be a date such as 2026-12-24")
            }
            day = .date(date)
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "must be \"wday\" or \"date\"")
        }
        intervals = try container.decode([WallInterval].self, forKey: .intervals)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch day {
        case .weekday(let weekday):
            try container.encode("wday", forKey: .type)
            try container.encode(weekday.rawValue, forKey: .wday)
        case .date(let date):
            try container.encode("date", forKey: .type)
            try container.encode(date.description, forKey: .date)
        }
        try container.encode(intervals, forKey: .intervals)
    }
}

public enum Weekday: String, Codable, Sendable, CaseIterable {
    // In the order of `LocalDate.weekday` (0 is Sunday).
    case sunday, monday, tuesday, wednesday, thursday, friday, saturday
}

/// `from`–`to` in wall-clock minutes after midnight; `to` may be 24:00.
public struct WallInterval: Codable, Sendable, Equatable {
    public var from: Int
    public var to: Int

    public init(from: Int, to: Int) {
        self.from = from
        self.to = to
    }

    /// `"09:00"`–`"17:00"`.
    public init?(_ from: String, _ to: String) {
        guard let start = Self.minutes(from), let end = Self.minutes(to) else { return nil }
        self.init(from: start, to: end)
    }

    enum CodingKeys: String, CodingKey { case from, to }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func read(_ key: CodingKeys) throws -> Int {
            let text = try container.decode(String.self, forKey: key)
            guard let minutes = Self.minutes(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "must be a time such as 09:30")
            }
            return minutes
        }
        self.init(from: try read(.from), to: try read(.to))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.text(from), forKey: .from)
        try container.encode(Self.text(to), forKey: .to)
    }

    /// `HH:MM` from 00:00 to 24:00.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
            text.utf8.allSatisfy({ $0 == UInt8(ascii: ":") || (48...57).contains($0) }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0...59).contains(minutes), hours < 24 || minutes == 0
        else { return nil }
        return hours * 60 + minutes
    }

    static func text(_ minutes: Int) -> String {
        let hours = minutes / 60, rest = minutes % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
    }
}
