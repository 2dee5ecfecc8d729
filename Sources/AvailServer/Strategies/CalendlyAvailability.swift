import AvailClient
import AvailCore
import HTTPTypes
import Synchronization

/// The Calendly strategy's availability: Calendly's available times for the expert's event
/// type, asked in windows Calendly accepts, cached briefly per expert, and dropped as soon as
/// the projector applies anything that changes that expert's appointments.
final class CalendlyAvailability: Sendable {
    private struct Entry {
        var slots: [TimeRange]
        var expires: ContinuousClock.Instant
    }

    private let client: CalendlyClient
    private let windowDays: Int
    private let ttl: Duration
    /// By expert id, then by range.
    private let cache = Mutex<[String: [String: Entry]]>([:])

    init(client: CalendlyClient, windowDays: Int, ttl: Duration) {
        self.client = client
        self.windowDays = windowDays
        self.ttl = ttl
    }

    func slots(for expert: ExpertProfile, in range: TimeRange) async throws -> [TimeRange] {
        guard let config = expert.calendlyConfig, let eventType = config.eventTypeURI else {
            throw Problem(
                .conflict, code: "event_type_unresolved",
                detail: "expert \(expert.id)'s Calendly link was not resolved to an event type; connect it again")
        }
        let key = "\(eventType) \(range.start) \(range.end)"
        let now = ContinuousClock.now
        if let hit = cache.withLock({ $0[expert.id]?[key] }), hit.expires > now { return hit.slots }

        let duration = Int64(CalendlyConfig.slotMinutes(config.durationMinutes)) * 60_000_000
        let window = Int64(windowDays) * 86_400_000_000
        var slots: [TimeRange] = []
        var start = range.start
        while start < range.end {
            let end = Timestamp(microseconds: min(start.microseconds + window, range.end.microseconds))
            let times: [CalendlyAvailableTime]
            do {
                times = try await client.availableTimes(eventType: eventType, start: "\(start)", end: "\(end)")
            } catch {
                throw Problem(.badGateway, code: "upstream_unavailable", detail: "\(error)")
            }
            for time in times where time.status == "available" {
                guard let begin = Timestamp(rfc3339: time.startTime), begin >= range.start, begin < range.end else { continue }
                slots.append(TimeRange(start: begin, end: Timestamp(microseconds: begin.microseconds + duration)))
            }
            start = end
        }
        var seen = Set<Int64>()
        slots = slots.sorted { $0.start < $1.start }.filter { seen.insert($0.start.microseconds).inserted }
        cache.withLock { $0[expert.id, default: [:]][key] = Entry(slots: slots, expires: now + ttl) }
        return slots
    }

    /// Drops what is cached for these experts.
    func invalidate(_ experts: Set<String>) {
        cache.withLock { cache in
            for expert in experts { cache[expert] = nil }
        }
    }
}
