import AvailClient
import AvailCore
import HTTPTypes
import Synchronization

/// The Calendly strategy's availability: Calendly's available times for the expert's event
/// type, asked and cached per window of a fixed grid, and dropped as soon as the projector
/// applies anything that changes that expert's appointments.
///
/// The grid is `windowDays` whole UTC days from the epoch (the longest range Calendly accepts
/// in one call), so however a range's ends are written (the settings page asks from "now", to
/// the microsecond), it maps to the same few windows: a range costs at most one call per window
/// it touches, and the slots are filtered down to it. The cache holds at most `maxEntries`
/// windows, none older than `ttl`, evicting the oldest. Concurrent misses for one window share
/// one call (single flight); its failure reaches every waiter but is not cached.
final class CalendlyAvailability: Sendable {
    /// One window of one expert's event type.
    struct WindowKey: Hashable, Sendable {
        var expert: String
        var eventType: String
        var window: Int64
    }

    private struct Entry {
        /// The available starts Calendly gave for the window, sorted, without repeats.
        var starts: [Timestamp]
        var stored: ContinuousClock.Instant
    }

    private struct Flight {
        var id: Int
        var call: Task<[Timestamp], any Error>
    }

    private struct State {
        var entries: [WindowKey: Entry] = [:]
        var flights: [WindowKey: Flight] = [:]
        var nextFlight = 0
    }

    /// Asks Calendly for one window of an event type's available times.
    typealias Fetch = @Sendable (_ eventType: String, _ start: String, _ end: String) async throws -> [CalendlyAvailableTime]

    /// The client asked when a caller names none (tests; the organization token).
    private let client: CalendlyClient?
    private let windowDays: Int
    private let ttl: Duration
    private let maxEntries: Int
    private let state = Mutex(State())

    init(client: CalendlyClient? = nil, windowDays: Int, ttl: Duration, maxEntries: Int = 1024) {
        self.client = client
        self.windowDays = windowDays
        self.ttl = ttl
        self.maxEntries = max(1, maxEntries)
    }

    /// Windows cached now (at most `maxEntries`).
    var entryCount: Int { state.withLock { $0.entries.count } }

    /// The slots of the expert's default event type, asked with the client given at `init`.
    func slots(for expert: ExpertProfile, in range: TimeRange) async throws -> [TimeRange] {
        guard let client else { throw CalendlyFailure.noToken }
        guard let eventType = expert.calendlyConfig?.eventType(nil) else { throw BookingRefusal.eventTypeUnresolved(expert: expert.id) }
        return try await slots(for: expert.id, eventType: eventType, in: range) { type, start, end in
            try await client.availableTimes(eventType: type, start: start, end: end)
        }
    }

    /// The slots of `eventType` (one the expert offers) starting in `range`; a window not
    /// cached is asked with `fetch`.
    func slots(for expertID: String, eventType: ChosenEventType, in range: TimeRange, fetch: @escaping Fetch) async throws -> [TimeRange] {
        guard let uri = eventType.uri else { throw BookingRefusal.eventTypeUnresolved(expert: expertID) }
        guard range.start < range.end else { return [] }
        let duration = Int64(CalendlyConfig.slotMinutes(eventType.durationMinutes)) * 60_000_000
        let length = Int64(windowDays) * 86_400_000_000
        var slots: [TimeRange] = []
        for window in Self.window(of: range.start.microseconds, length: length)...Self.window(of: range.end.microseconds - 1, length: length) {
            let key = WindowKey(expert: expertID, eventType: uri, window: window)
            for begin in try await starts(in: key, length: length, fetch: fetch) where begin >= range.start && begin < range.end {
                slots.append(TimeRange(start: begin, end: Timestamp(microseconds: begin.microseconds + duration)))
            }
        }
        return slots
    }

    /// Drops what is cached for these experts; a call still out for one of them is not stored.
    func invalidate(_ experts: Set<String>) {
        state.withLock { state in
            state.entries = state.entries.filter { !experts.contains($0.key.expert) }
            state.flights = state.flights.filter { !experts.contains($0.key.expert) }
        }
    }

    // MARK: Windows

    /// The window's starts: cached, the call already out for it, or a new call.
    private func starts(in key: WindowKey, length: Int64, fetch: @escaping Fetch) async throws -> [Timestamp] {
        // Calendly refuses a start in the past: ask from the next whole minute at the earliest.
        let now = Timestamp.now().microseconds
        let earliest = (Self.window(of: now - 1, length: 60_000_000) + 1) * 60_000_000
        let start = max(key.window * length, earliest)
        let end = key.window * length + length
        guard start < end else { return [] }

        enum Found { case cached([Timestamp]), flight(Task<[Timestamp], any Error>) }
        let found: Found = state.withLock { state in
            if let entry = state.entries[key], ContinuousClock.now - entry.stored < ttl { return .cached(entry.starts) }
            if let flight = state.flights[key] { return .flight(flight.call) }
            let id = state.nextFlight
            state.nextFlight += 1
            // Not fire-and-forget: every caller awaits it, and it outlives none of them by more
            // than the client's time-outs. Unstructured, so one caller's cancellation does not
            // fail the others.
            let call = Task { [self] in
                let result: Result<[Timestamp], any Error>
                do {
                    result = .success(try await Self.fetch(eventType: key.eventType, start: start, end: end, with: fetch))
                } catch {
                    result = .failure(error)
                }
                self.land(result, of: key, flight: id)
                return try result.get()
            }
            state.flights[key] = Flight(id: id, call: call)
            return .flight(call)
        }
        switch found {
        case .cached(let starts): return starts
        case .flight(let call): return try await call.value
        }
    }

    /// A call came back: stores its starts (unless the window was invalidated meanwhile) and
    /// keeps the cache within its bounds.
    private func land(_ result: Result<[Timestamp], any Error>, of key: WindowKey, flight id: Int) {
        state.withLock { state in
            guard state.flights[key]?.id == id else { return }
            state.flights[key] = nil
            guard case .success(let starts) = result else { return }
            let now = ContinuousClock.now
            state.entries = state.entries.filter { now - $0.value.stored < ttl }
            state.entries[key] = Entry(starts: starts, stored: now)
            while state.entries.count > maxEntries, let oldest = state.entries.min(by: { $0.value.stored < $1.value.stored }) {
                state.entries[oldest.key] = nil
            }
        }
    }

    private static func fetch(eventType: String, start: Int64, end: Int64, with fetch: Fetch) async throws -> [Timestamp] {
        let times: [CalendlyAvailableTime]
        do {
            times = try await fetch(eventType, "\(Timestamp(microseconds: start))", "\(Timestamp(microseconds: end))")
        } catch {
            throw CalendlyFailure.wrapping(error)
        }
        var seen = Set<Int64>()
        return times.filter { $0.status == "available" }
            .compactMap { Timestamp(rfc3339: $0.startTime) }
            .sorted()
            .filter { seen.insert($0.microseconds).inserted }
    }

    /// The grid cell holding `microseconds`, rounding down also before the epoch.
    private static func window(of microseconds: Int64, length: Int64) -> Int64 {
        let quotient = microseconds / length
        return microseconds % length < 0 ? quotient - 1 : quotient
    }
}
