import AvailClient
import AvailCore
@testable import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HummingbirdTesting
import Testing

/// The Calendly availability cache against the stand-in over loopback: bounded however many
/// distinct ranges are asked, and one upstream call per window however many ask at once.
@Suite struct CalendlyAvailabilityCacheTests {
    static let day: Int64 = 86_400_000_000
    static let windowDays = 7

    static var grace: ExpertProfile {
        let grace = Corpus.experts[1]
        return ExpertProfile(
            id: grace.id, name: grace.name, email: grace.email, timezone: grace.timezone, integrationType: .calendly,
            calendlyConfig: CalendlyConfig(
                eventLink: grace.eventLink, eventTypeURI: grace.eventTypeURI, userURI: grace.userURI, eventTypeName: "60 Minute Meeting",
                durationMinutes: 60, connectedAt: .now()),
            createdAt: .now(), updatedAt: .now())
    }

    static func availability(_ baseURL: String, maxEntries: Int = 256, ttl: Duration = .seconds(30)) -> CalendlyAvailability {
        var client = CalendlyClient(baseURL: baseURL, token: CalendlyClientTests.admin)
        client.backoff = .milliseconds(10)
        return CalendlyAvailability(client: client, windowDays: windowDays, ttl: ttl, maxEntries: maxEntries)
    }

    /// The windows of `windowDays` whole UTC days, counted from the epoch, that `range` touches
    /// (times after 1970, so `/` rounds down).
    static func windows(of range: TimeRange) -> Set<Int64> {
        let length = Int64(windowDays) * day
        return Set(range.start.microseconds / length...(range.end.microseconds - 1) / length)
    }

    static func calls(_ control: any TestClientProtocol) async throws -> Int {
        try await requestCount("/event_type_available_times", control)
    }

    @Test func distinctRangesInTheSameWindowsShareTheirEntriesAndCalls() async throws {
        try await withCalendly { baseURL, control in
            let availability = Self.availability(baseURL)
            let base = Timestamp.now().microseconds + 3_600_000_000
            var touched = Set<Int64>()
            for offset in Int64(0)..<3_000 {
                let range = TimeRange(start: Timestamp(microseconds: base + offset), end: Timestamp(microseconds: base + offset + 3 * Self.day))
                touched.formUnion(Self.windows(of: range))
                let slots = try await availability.slots(for: Self.grace, in: range)
                #expect(slots.allSatisfy { $0.start >= range.start && $0.start < range.end })
            }
            #expect(availability.entryCount == touched.count)
            #expect(try await Self.calls(control) == touched.count)
        }
    }

    @Test func theCacheKeepsAtMostItsBoundEvictingTheOldest() async throws {
        try await withCalendly { baseURL, control in
            let availability = Self.availability(baseURL, maxEntries: 4)
            let length = Int64(Self.windowDays) * Self.day
            let first = Timestamp.now().microseconds / length + 1
            // One day inside each of ten future windows.
            let ranges = (first..<first + 10).map { window in
                TimeRange(start: Timestamp(microseconds: window * length + Self.day), end: Timestamp(microseconds: window * length + 2 * Self.day))
            }
            for range in ranges {
                _ = try await availability.slots(for: Self.grace, in: range)
                #expect(availability.entryCount <= 4)
            }
            #expect(try await Self.calls(control) == 10)
            _ = try await availability.slots(for: Self.grace, in: ranges[9])
            #expect(try await Self.calls(control) == 10, "the newest window is still cached")
            _ = try await availability.slots(for: Self.grace, in: ranges[0])
            #expect(try await Self.calls(control) == 11, "the oldest window was evicted")
        }
    }

    @Test func expiredEntriesAreDropped() async throws {
        try await withCalendly { baseURL, _ in
            let availability = Self.availability(baseURL, ttl: .milliseconds(50))
            let length = Int64(Self.windowDays) * Self.day
            let first = Timestamp.now().microseconds / length + 1
            let range = { (window: Int64) in
                TimeRange(start: Timestamp(microseconds: window * length), end: Timestamp(microseconds: window * length + Self.day))
            }
            _ = try await availability.slots(for: Self.grace, in: range(first))
            // The entry's age is the condition under test.
            try await Task.sleep(for: .milliseconds(100))
            _ = try await availability.slots(for: Self.grace, in: range(first + 1))
            #expect(availability.entryCount == 1)
        }
    }

    @Test func concurrentMissesForAWindowShareOneCall() async throws {
        try await withCalendly { baseURL, control in
            let availability = Self.availability(baseURL)
            // Slow answers, so that all thirty ask while the first call is still out.
            try await inject(#"[{"path":"/event_type_available_times","status":200,"times":100,"delay_ms":300}]"#, control)
            let start = Timestamp(microseconds: Timestamp.now().microseconds + 3_600_000_000)
            let range = TimeRange(start: start, end: Timestamp(microseconds: start.microseconds + 3 * Self.day))
            let answers = try await withThrowingTaskGroup(of: [TimeRange].self) { group in
                for _ in 0..<30 { group.addTask { try await availability.slots(for: Self.grace, in: range) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 30)
            #expect(Set(answers.map { $0.map(\.start) }).count == 1)
            #expect(try await Self.calls(control) == Self.windows(of: range).count)
        }
    }

    @Test func aSharedFailureReachesEveryWaiterAndIsNotCached() async throws {
        try await withCalendly { baseURL, control in
            let availability = Self.availability(baseURL)
            try await inject(#"[{"path":"/event_type_available_times","status":404,"times":1,"delay_ms":300}]"#, control)
            let length = Int64(Self.windowDays) * Self.day
            let window = Timestamp.now().microseconds / length + 1
            let range = TimeRange(start: Timestamp(microseconds: window * length), end: Timestamp(microseconds: window * length + Self.day))
            let failures = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<30 {
                    group.addTask { (try? await availability.slots(for: Self.grace, in: range)) == nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(failures == 30)
            #expect(try await Self.calls(control) == 1)
            #expect(availability.entryCount == 0)
            _ = try await availability.slots(for: Self.grace, in: range)
            #expect(try await Self.calls(control) == 2)
        }
    }
}
