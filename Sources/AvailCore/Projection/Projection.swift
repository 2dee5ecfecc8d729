/// The whole fold held in memory: what `availd rebuild` computes, and what tests compare the
/// SQLite read models against.
public struct Projection: Sendable {
    public private(set) var state = ProjectionState()
    /// The last position applied.
    public private(set) var position: Int64 = 0
    public private(set) var parked: [ParkedEvent] = []
    /// What the last event changed: nothing reads it here (the whole state is the result), so
    /// it is cleared, keeping its storage, rather than made anew for every event.
    private var changes = ProjectionChanges()

    public init() {}

    /// Applies one event of the log; an event that cannot be applied is parked, not fatal.
    public mutating func apply(_ event: LogEvent) {
        do {
            apply(try ProjectionInput(event), at: event)
        } catch {
            parked.append(ParkedEvent(event: event, reason: error.description))
            position = max(position, event.position)
        }
    }

    /// Records that `event` could not be applied.
    public mutating func park(_ event: LogEvent, reason: ParkReason) {
        parked.append(ParkedEvent(event: event, reason: reason.description))
        position = max(position, event.position)
    }

    /// Applies an event already read (rebuild reads events in parallel).
    public mutating func apply(_ input: ProjectionInput, at event: LogEvent) {
        changes.removeAll()
        do {
            try state.apply(input, changes: &changes)
        } catch {
            parked.append(ParkedEvent(event: event, reason: error.description))
        }
        position = max(position, event.position)
    }

    public var experts: [ExpertProfile] {
        state.experts.values.sorted { $0.id < $1.id }
    }

    /// Every appointment, ordered by id.
    public var appointments: [Appointment] {
        let directory = ExpertDirectory(state.experts.values)
        let calendly = state.facts.values.compactMap { facts in
            facts.snapshot.flatMap { Appointment(facts: facts, expertID: directory.expert(for: $0)) }
        }
        return (calendly + state.natives.values).sorted { $0.id < $1.id }
    }

    public var digest: String {
        var digest = ProjectionDigest()
        for expert in experts { digest.add(expert) }
        for appointment in appointments { digest.add(appointment) }
        return digest.finalize()
    }
}

/// An event the fold could not apply, kept with its reason (`GET /parked`).
public struct ParkedEvent: Sendable, Equatable {
    public var position: Int64
    public var type: String
    public var reason: String
    public var recordedAt: Timestamp

    public init(position: Int64, type: String, reason: String, recordedAt: Timestamp) {
        self.position = position
        self.type = type
        self.reason = reason
        self.recordedAt = recordedAt
    }

    public init(event: LogEvent, reason: String) {
        self.init(position: event.position, type: event.event.type, reason: reason, recordedAt: event.event.recordedAt)
    }
}
