import AvailClient
import AvailCore
import AvailServer
import AvailStore
import AvailTesting
import AvailWorkload
import CalendlyStandIn
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Values Calendly should never send must not crash availd: a rate-limit reset that is not a
/// sane number of seconds, an event type lasting forever.
@Suite struct CalendlyOddValuesTests {
    @Test(arguments: ["inf", "-inf", "1e300", "nan", "-5", "9223372036854775807", "soon", ""])
    func anOddRateLimitResetIsWaitedOutBoundedly(reset: String) async throws {
        try await withCalendly { baseURL, control in
            let failure = InjectedFailure(path: "/users/me", status: 429, times: 1, rateLimitReset: reset)
            try await inject(String(decoding: try JSONEncoder().encode([failure]), as: UTF8.self), control)
            var client = CalendlyClientTests().client(baseURL)
            client.maximumRateLimitWait = .milliseconds(200)
            let started = ContinuousClock.now
            #expect(try await client.me().slug == "marketplace-admin")
            // Unbounded, "inf" or "1e300" would wait for ever; 30 s leaves room for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(try await requestCount("/users/me", control) == 2)
        }
    }

    /// An event type that lasts longer than a day is refused when it is connected.
    @Test(arguments: [Int.max, 1_000_000, 1441, 0, -30])
    func anEventTypeOfAnAbsurdDurationIsRefusedOnConnect(duration: Int) async throws {
        var seed = try StandInSeed.load(TestPaths.fixtures.appendingPathComponent("calendly-api/state.json"))
        let index = try #require(seed.eventTypes.firstIndex { $0.schedulingURL == "https://calendly.com/ada-lovelace/30min" })
        seed.eventTypes[index].duration = duration
        try await CalendlyStandIn.buildApplication(seed: seed).test(.live) { control in
            try await withDaemon(CalendlyConnectTests().configuration("http://127.0.0.1:\(control.port!)")) { daemon in
                try await daemon.createFixtureExperts(connecting: false)
                let before = try await daemon.allEvents().count
                let answer = try await daemon.call(
                    .put, "/experts/ada/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/ada-lovelace/30min"}"#)
                #expect(answer.status == .badGateway)
                #expect(answer.problem?.detail.contains("\(duration) minutes") == true, "\(answer.problem?.detail ?? "no detail")")
                #expect(try await daemon.allEvents().count == before)
            }
        }
    }

    /// A duration already in the log (an older daemon took it) still gives slots, not a crash.
    @Test func anAbsurdDurationInTheLogGivesDayLongSlots() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("odd.sqlite")
        let ada = Corpus.experts[0]
        let at = Timestamp(microseconds: 1_795_000_000_000_000)
        let events: [ExpertEvent] = [
            .updated(ExpertUpdated(expertID: ada.id, name: ada.name, email: ada.email, timezone: ada.timezone, setBy: .admin, at: at)),
            .calendlyConnected(CalendlyConnected(
                expertID: ada.id, eventLink: ada.eventLink, eventTypeURI: ada.eventTypeURI, userURI: ada.userURI,
                eventTypeName: "30 Minute Meeting", durationMinutes: Int.max, at: at)),
        ]
        _ = try await EventLog(database: try LogDatabase.open(path: path))
            .append(events.enumerated().map { Corpus.event($1, position: Int64($0 + 1)).event })
        try await withCalendly { baseURL, _ in
            var configuration = CalendlyConnectTests().configuration(baseURL)
            configuration.databasePath = path
            try await withDaemon(configuration) { daemon in
                let range = "start_time=\(CalendlyAvailabilityTests.monday)T00:00:00Z&end_time=\(CalendlyAvailabilityTests.monday.adding(days: 1))T00:00:00Z"
                let answer = try await daemon.call(.get, "/experts/ada/availability?\(range)&min_position=2")
                #expect(answer.status == .ok)
                let slots = try #require(answer.json["slots"] as? [[String: String]])
                #expect(!slots.isEmpty)
                for slot in slots {
                    let start = try #require(slot["start_time"].flatMap(Timestamp.init(rfc3339:)))
                    let end = try #require(slot["end_time"].flatMap(Timestamp.init(rfc3339:)))
                    #expect(end.microseconds - start.microseconds == 1440 * 60_000_000)
                }
            }
        }
    }
}
