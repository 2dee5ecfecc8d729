/// A calendar date without a time zone (`2026-12-24`), with the arithmetic slots need.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let day: Int

    public init(daysSinceEpoch: Int) {
        self.day = daysSinceEpoch
    }

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = Self.days(year: year, month: month, day: day)
        // Rejects 2026-02-30 and the like: the round trip must give the same date.
        let (y, m, d) = Timestamp.civilFromDays(days)
        guard y == year, m == month, d == day else { return nil }
        self.day = days
    }

    /// `YYYY-MM-DD`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            text.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (48...57).contains($0) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public var weekday: Weekday {
        // 1970-01-01 was a Thursday.
        Weekday.allCases[((day % 7) + 7 + 4) % 7]
    }

    public func adding(days: Int) -> LocalDate { LocalDate(daysSinceEpoch: day + days) }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.day < rhs.day }

    public var description: String {
        let (year, month, day) = Timestamp.civilFromDays(self.day)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))"
    }

    /// Howard Hinnant's `days_from_civil`.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
