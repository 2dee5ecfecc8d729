import AvailCore

/// The experts as the projector last wrote them, with the directory built from them. The
/// projector keeps this in memory between batches; it is rebuilt when experts change.
public struct ExpertCache: Sendable {
    public private(set) var experts: [String: ExpertProfile]
    public private(set) var directory: ExpertDirectory

    public init(_ experts: [String: ExpertProfile] = [:]) {
        self.experts = experts
        self.directory = ExpertDirectory(experts.values)
    }
}

/// One log event ready for the fold, or the reason it cannot be applied.
public struct PreparedEvent: Sendable {
    public var event: LogEvent
    public var input: Result<ProjectionInput, ParkReason>

    /// Decoding is pure and the costly part, so it happens before the write transaction.
    public init(_ event: LogEvent) {
        self.event = event
        self.input = Result { () throws(ParkReason) in try ProjectionInput(event) }
    }
}

/// A batch of events folded, ready for a backend to write (`ProjectionTarget.commit`).
public struct FoldedBatch: Sendable {
    /// A Calendly appointment as the batch leaves it.
    public struct CalendlyAppointment: Sendable {
        public var appointment: Appointment
        public var eventTypeURI: String?
        /// Its hosts' keys now (Calendly user URIs and emails): the host index's rows.
        public var hostKeys: [String]
        /// What the host index holds for it before this batch.
        public var previousHostKeys: [String]
        /// The invitee's facts (`AppointmentFacts.compact()`): what the fold resumes from.
        public var facts: [UInt8]
    }

    /// The last event's position: the checkpoint once written.
    public var position: Int64
    public var experts: ExpertCache
    public var changedExperts: [ExpertProfile]
    /// Facts of invitees not described yet (no appointment to keep them in).
    public var facts: [(uri: String, compact: [UInt8])]
    /// Invitees described for the first time, whose facts move into their appointment.
    public var described: [String]
    public var appointments: [CalendlyAppointment]
    public var natives: [Appointment]
    /// Event types and hosts whose expert may have changed: their appointments are re-matched.
    public var matchKeys: MatchKeys
    public var parked: [ParkedEvent]

    /// Nothing but `event`, parked.
    static func parking(_ event: ParkedEvent, _ experts: ExpertCache) -> FoldedBatch {
        FoldedBatch(
            position: event.position, experts: experts, changedExperts: [], facts: [], described: [], appointments: [],
            natives: [], matchKeys: MatchKeys(), parked: [event])
    }

    /// Experts whose appointments this batch writes, or who changed (and may gain or lose
    /// appointments by re-matching).
    public var touchedExperts: Set<String> {
        var experts = Set(changedExperts.map(\.id))
        for item in appointments { if let id = item.appointment.expertID { experts.insert(id) } }
        for native in natives { if let id = native.expertID { experts.insert(id) } }
        return experts
    }

    /// The ids of the appointments this batch writes itself (re-matching leaves them alone).
    public var writtenIDs: Set<String> { Set(appointments.map(\.appointment.id)) }

    static func fold(
        _ batch: [PreparedEvent], through last: Int64, loaded: [String: AppointmentFacts], natives: [String: Appointment],
        experts cache: ExpertCache
    ) -> FoldedBatch {
        var state = ProjectionState(experts: cache.experts, facts: loaded, natives: natives)
        var changes = ProjectionChanges()
        var parked: [ParkedEvent] = []
        for prepared in batch {
            do throws(ParkReason) {
                try state.apply(try prepared.input.get(), changes: &changes)
            } catch {
                parked.append(ParkedEvent(event: prepared.event, reason: error.description))
            }
        }
        let cache = changes.experts.isEmpty ? cache : ExpertCache(state.experts)
        var facts: [(uri: String, compact: [UInt8])] = []
        var described: [String] = []
        var appointments: [CalendlyAppointment] = []
        for uri in changes.invitees.sorted() {
            let item = state.facts[uri]!
            let compact = item.compact()
            guard let snapshot = item.snapshot,
                let appointment = Appointment(facts: item, expertID: cache.directory.expert(for: snapshot))
            else {
                facts.append((uri, compact))
                continue
            }
            let previous = loaded[uri]
            if previous != nil, previous?.snapshot == nil { described.append(uri) }
            // What the host index holds for it now: the hosts of its stored snapshot.
            appointments.append(CalendlyAppointment(
                appointment: appointment, eventTypeURI: snapshot.eventTypeURI, hostKeys: snapshot.hostKeys,
                previousHostKeys: previous?.snapshot?.hostKeys ?? [], facts: compact))
        }
        return FoldedBatch(
            position: last, experts: cache, changedExperts: changes.experts.sorted().map { state.experts[$0]! }, facts: facts,
            described: described, appointments: appointments, natives: changes.natives.sorted().map { state.natives[$0]! },
            matchKeys: changes.matchKeys, parked: parked)
    }
}
