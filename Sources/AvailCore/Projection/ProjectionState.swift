/// The fold's state: experts and the merged facts of every invitee the log has mentioned.
///
/// `apply` is the fold, (state, event) → state, and nothing else changes the state. The
/// projector may hold only the part of the state a batch needs (the experts, and the facts of
/// the invitees the batch names); `changes` tells it what to write back.
public struct ProjectionState: Sendable {
    public var experts: [String: ExpertProfile]
    /// Keyed by invitee URI.
    public var facts: [String: AppointmentFacts]
    /// Appointments availd booked itself (native), by id.
    public var natives: [String: Appointment]

    public init(
        experts: [String: ExpertProfile] = [:], facts: [String: AppointmentFacts] = [:], natives: [String: Appointment] = [:]
    ) {
        self.experts = experts
        self.facts = facts
        self.natives = natives
    }

    public mutating func apply(_ input: ProjectionInput, changes: inout ProjectionChanges) throws(ParkReason) {
        switch input {
        case .inviteeCreated(let uri, let snapshot, let oldInvitee, let version):
            facts[uri, default: AppointmentFacts(inviteeURI: uri)].created.merge(snapshot, version: version)
            changes.invitees.insert(uri)
            if let oldInvitee, oldInvitee != uri {
                facts[uri]!.link(rescheduledFrom: oldInvitee)
                facts[oldInvitee, default: AppointmentFacts(inviteeURI: oldInvitee)].link(rescheduledTo: uri)
                changes.invitees.insert(oldInvitee)
            }
        case .inviteeCanceled(let uri, let cancellation, let newInvitee, let version):
            facts[uri, default: AppointmentFacts(inviteeURI: uri)].canceled.merge(cancellation, version: version)
            changes.invitees.insert(uri)
            if let newInvitee, newInvitee != uri {
                facts[uri]!.link(rescheduledTo: newInvitee)
                facts[newInvitee, default: AppointmentFacts(inviteeURI: newInvitee)].link(rescheduledFrom: uri)
                changes.invitees.insert(newInvitee)
            }
        case .noShow(let uri, let isNoShow, let snapshot, let version):
            facts[uri, default: AppointmentFacts(inviteeURI: uri)].noShow.merge(isNoShow, version: version)
            if let snapshot { facts[uri]!.noShowSnapshot.merge(snapshot, version: version) }
            changes.invitees.insert(uri)
        case .noShowObservedAbsent(let uri, let version):
            facts[uri, default: AppointmentFacts(inviteeURI: uri)].noShowObservedAbsent.merge(false, version: version)
            changes.invitees.insert(uri)
        case .rescheduleLink(let from, let to):
            guard from != to else { break }
            facts[to, default: AppointmentFacts(inviteeURI: to)].link(rescheduledFrom: from)
            facts[from, default: AppointmentFacts(inviteeURI: from)].link(rescheduledTo: to)
            changes.invitees.formUnion([from, to])
        case .observed(let inputs):
            for input in inputs { try apply(input, changes: &changes) }
        case .expert(let event):
            try apply(event, changes: &changes)
        case .appointment(let event):
            try apply(event, changes: &changes)
        case .skipped:
            break
        }
    }

    private mutating func apply(_ event: ExpertEvent, changes: inout ProjectionChanges) throws(ParkReason) {
        let id = event.expertID
        let before = experts[id]
        var expert: ExpertProfile
        switch event {
        case .updated(let update):
            expert = before ?? ExpertProfile(
                id: id, name: update.name, email: update.email, timezone: update.timezone,
                createdAt: update.at, updatedAt: update.at)
            expert.name = update.name
            expert.email = update.email
            if update.setBy == .admin { expert.adminEmail = EmailAddress.normalize(update.email) }
            expert.timezone = update.timezone
            expert.updatedAt = update.at
        case .calendlyConnected(let connection):
            guard let existing = before else { throw ParkReason("expert \(id) does not exist") }
            // One expert per event type: the first connection in the log keeps it.
            for holder in experts.values where holder.id != id {
                if let taken = holder.held(of: connection).first {
                    throw ParkReason("event type \(taken.uri ?? taken.link) is connected to expert \(holder.id)")
                }
            }
            expert = existing
            expert.integrationType = .calendly
            expert.nativeSchedule = nil
            // Event type URIs key appointments (`event_type_uri`): in NFC, as theirs are.
            let chosen = connection.chosen.map { chosen in
                var chosen = chosen
                chosen.uri = chosen.uri?.nfc
                return chosen
            }
            expert.calendlyConfig = CalendlyConfig(
                eventLink: chosen[0].link, eventTypeURI: chosen[0].uri, userURI: connection.userURI,
                userEmail: connection.userEmail, eventTypeName: chosen[0].name,
                durationMinutes: chosen[0].durationMinutes, eventTypes: chosen, connectedAt: connection.at)
            let past = Set(expert.pastEventTypeURIs).union(chosen.compactMap(\.uri))
            expert.pastEventTypeURIs = past.sorted()
            expert.updatedAt = connection.at
        case .accountConnected(let account):
            guard let existing = before else { throw ParkReason("expert \(id) does not exist") }
            // One expert per Calendly account, or its appointments would have two owners.
            if let holder = experts.values.first(where: { $0.id != id && $0.calendlyAccount?.userURI == account.userURI }) {
                throw ParkReason("Calendly user \(account.userURI) is connected to expert \(holder.id)")
            }
            expert = existing
            // Another account's event types are not this one's to offer.
            if let config = expert.calendlyConfig, config.userURI?.nfc != account.userURI.nfc {
                expert.calendlyConfig = nil
                if expert.integrationType == .calendly { expert.integrationType = .none }
            }
            // A reconnect of the same account keeps its subscription; another account has none yet.
            let subscription = expert.calendlyAccount?.userURI == account.userURI ? expert.calendlyAccount?.subscription : nil
            expert.calendlyAccount = CalendlyAccount(
                userURI: account.userURI, organizationURI: account.organizationURI, email: account.userEmail,
                name: account.userName, status: .connected, connectedAt: account.at, subscription: subscription)
            expert.updatedAt = account.at
        case .subscriptionSet(let set):
            guard let existing = before else { throw ParkReason("expert \(id) does not exist") }
            expert = existing
            // About the account connected now, not one before it.
            guard expert.calendlyAccount?.userURI == set.userURI else { return }
            expert.calendlyAccount?.subscription = CalendlyAccount.Subscription(
                uri: set.subscriptionURI, callbackURL: set.callbackURL, state: set.state, since: set.at)
            expert.updatedAt = set.at
        case .reconnectNeeded(let refusal):
            guard let existing = before else { throw ParkReason("expert \(id) does not exist") }
            expert = existing
            // Only the account it was about: a reconnect logged since then stands.
            guard expert.calendlyAccount?.userURI == refusal.userURI, let connectedAt = expert.calendlyAccount?.connectedAt,
                connectedAt <= refusal.at
            else { return }
            expert.calendlyAccount?.status = .needsReconnect
            expert.updatedAt = refusal.at
        case .nativeScheduleSet(let setting):
            guard let existing = before else { throw ParkReason("expert \(id) does not exist") }
            expert = existing
            expert.integrationType = .native
            expert.calendlyConfig = nil
            expert.nativeSchedule = setting.schedule
            expert.updatedAt = setting.at
        case .disconnected(let disconnection):
            guard let existing = before else { throw ParkReason("expert \(id) does not exist") }
            expert = existing
            expert.integrationType = .none
            expert.calendlyConfig = nil
            expert.calendlyAccount = nil
            expert.nativeSchedule = nil
            expert.updatedAt = disconnection.at
        }
        experts[id] = expert
        changes.experts.insert(id)
        if let before { changes.matchKeys.formUnion(before.matchKeys) }
        changes.matchKeys.formUnion(expert.matchKeys)
    }
}

extension ProjectionState {
    private mutating func apply(_ event: AppointmentEvent, changes: inout ProjectionChanges) throws(ParkReason) {
        switch event {
        case .booked(let booking):
            guard natives[booking.appointmentID] == nil else { throw ParkReason("appointment \(booking.appointmentID) exists") }
            natives[booking.appointmentID] = Appointment(
                id: booking.appointmentID, expertID: booking.expertID, calendarType: "native", externalCalendarEventID: nil,
                externalInviteeURI: nil, status: .scheduled, startTime: booking.startTime, endTime: booking.endTime,
                invitee: booking.invitee, rescheduledFrom: nil, rescheduledTo: nil, cancellation: nil, noShow: false,
                createdAt: booking.at, updatedAt: booking.at)
            changes.natives.insert(booking.appointmentID)
        case .rescheduled(let move):
            guard var old = natives[move.appointmentID], old.status == .scheduled else {
                throw ParkReason("appointment \(move.appointmentID) is not a scheduled native appointment")
            }
            guard natives[move.newAppointmentID] == nil else { throw ParkReason("appointment \(move.newAppointmentID) exists") }
            var new = old
            new.id = move.newAppointmentID
            new.startTime = move.startTime
            new.endTime = move.endTime
            new.rescheduledFrom = old.id
            new.createdAt = move.at
            new.updatedAt = move.at
            old.status = .rescheduled
            old.rescheduledTo = new.id
            old.updatedAt = move.at
            natives[old.id] = old
            natives[new.id] = new
            changes.natives.formUnion([old.id, new.id])
        case .canceled(let cancel):
            guard var appointment = natives[cancel.appointmentID], appointment.status == .scheduled else {
                throw ParkReason("appointment \(cancel.appointmentID) is not a scheduled native appointment")
            }
            appointment.status = .canceled
            appointment.cancellation = Appointment.CancellationView(
                canceledBy: nil, reason: cancel.reason, cancelerType: nil, canceledAt: cancel.at)
            appointment.updatedAt = cancel.at
            natives[cancel.appointmentID] = appointment
            changes.natives.insert(cancel.appointmentID)
        }
    }
}

/// What applying events changed: the invitees whose facts changed, the experts that changed,
/// and the match keys (old and new) of those experts, whose appointments may change hands.
public struct ProjectionChanges: Sendable {
    public var invitees: Set<String> = []
    /// Native appointments, by id.
    public var natives: Set<String> = []
    public var experts: Set<String> = []
    public var matchKeys = MatchKeys()

    public init() {}

    /// Empties every set, keeping its storage for the next event.
    mutating func removeAll() {
        invitees.removeAll(keepingCapacity: true)
        natives.removeAll(keepingCapacity: true)
        experts.removeAll(keepingCapacity: true)
        matchKeys.eventTypeURIs.removeAll(keepingCapacity: true)
        matchKeys.hostKeys.removeAll(keepingCapacity: true)
    }
}
