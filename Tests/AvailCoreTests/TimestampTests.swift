import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

@Suite struct TimestampTests {
    @Test func writesRFC3339WithMicroseconds() {
        #expect(Timestamp(microseconds: 1_772_463_845_123_456).description == "2026-03-02T15:04:05.123456Z")
        #expect(Timestamp(microseconds: 0).description == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp(microseconds: -1).description == "1969-12-31T23:59:59.999999Z")
    }

    @Test(arguments: [
        ("2026-03-02T15:04:05.123456Z", 1_772_463_845_123_456),
        ("2026-03-02T15:04:05Z", 1_772_463_845_000_000),
        ("2026-03-02T15:04:05.123Z", 1_772_463_845_123_000),
        ("2026-03-02T15:04:05.1234567Z", 1_772_463_845_123_456),
        ("2026-03-02T16:04:05.5+01:00", 1_772_463_845_500_000),
        ("2026-03-02T10:04:05-05:00", 1_772_463_845_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),
    ] as [(String, Int64)])
    func parses(text: String, microseconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.microseconds == microseconds)
    }

    @Test(arguments: ["", "2026-03-02", "2026-03-02 15:04:05Z", "2026-13-02T15:04:05Z", "2026-03-02T15:04:05",
                      "2026-03-02T15:04:05.Z", "2026-03-02T15:04:05+0100", "2026-03-02T15:04:05Zjunk"])
    func refuses(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    /// An offset that moves a time out of years 0000–9999 made an instant `description`
    /// wrote as `000/-12-31…` or `0000-…` (five digits cut to four): stored facts holding it
    /// did not read back, and the projector could not load them again.
    @Test(arguments: ["0000-01-01T00:00:00+00:01", "0000-01-01T00:59:59.999999+01:00", "9999-12-31T23:59:59-00:01",
                      "9999-12-31T23:30:00.5-23:59"])
    func refusesTimesOutsideTheYearsItWrites(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test(arguments: ["0000-01-01T00:00:00Z", "0000-01-01T00:00:00-00:01", "9999-12-31T23:59:59.999999Z",
                      "9999-12-31T23:59:60Z", "9999-12-31T23:59:59+23:59"])
    func readsBackTheEdgesOfTheYearsItWrites(text: String) throws {
        let time = try #require(Timestamp(rfc3339: text))
        #expect(Timestamp(rfc3339: time.description) == time)
    }

    @Test func roundTrips() {
        let now = Timestamp.now()
        #expect(Timestamp(rfc3339: now.description) == now)
    }
}

@Suite struct TimestampFormattingTests {
    /// The hand-written formatter agrees with Foundation's over a wide, seeded range.
    @Test func agreesWithFoundation() {
        var generator = SplitMix64(seed: 20_261_125)
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        for _ in 0..<2000 {
            let microseconds = Int64(bitPattern: generator.next()) % 8_000_000_000_000_000
            let timestamp = Timestamp(microseconds: microseconds)
            let date = Date(timeIntervalSince1970: Double(timestamp.unixSeconds))
            #expect(timestamp.description.prefix(19) == formatter.string(from: date).prefix(19), "\(microseconds)")
            #expect(Timestamp(rfc3339: timestamp.description) == timestamp, "\(microseconds)")
        }
    }
}

/// A small seeded generator, so a failing case can be replayed.
