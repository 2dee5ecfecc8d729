import Foundation

/// Everything the log has said about one Calendly invitee, merged so that the order in which
/// deliveries arrive (and how often) cannot change the result.
///
/// Each kind of fact keeps the copy with the greatest `FactVersion`, and links keep the least
/// URI: both merges are commutative, associative and idempotent, which is what makes the fold
/// converge whatever Calendly's delivery order.
public struct AppointmentFacts: Codable, Sendable, Equatable {
    public var inviteeURI: String
    public var created: Versioned<InviteeSnapshot>?
    public var canceled: Versioned<Cancellation>?
    /// The invitee as a no-show delivery in the Invitee form described it.
    public var noShowSnapshot: Versioned<InviteeSnapshot>?
    public var noShow: Versioned<Bool>?
    /// When reconciliation last saw the invitee with no no-show (the value is always false):
    /// a no-show reported before that moment was deleted since, one reported after it stands.
    public var noShowObservedAbsent: Versioned<Bool>?
    /// The invitee that replaced this one, from either half of the reschedule pair.
    public var rescheduledTo: String?
    /// The invitee this one replaced, from either half of the reschedule pair.
    public var rescheduledFrom: String?

    public init(inviteeURI: String) {
        self.inviteeURI = inviteeURI
    }

    /// The invitee's latest description: a cancellation knows most, then the creation.
    ///
    /// A description without its scheduled event (Calendly's Invitee resource as the API answers
    /// it, which does not embed one) takes the event's fields from the others, so it never
    /// erases the times, event type or hosts that another copy knows.
    public var snapshot: InviteeSnapshot? {
        guard var latest = canceled?.value.snapshot ?? created?.value ?? noShowSnapshot?.value else { return nil }
        if let created { latest.fillEventFields(from: created.value) }
        if let noShowSnapshot { latest.fillEventFields(from: noShowSnapshot.value) }
        return latest
    }

    /// Whether the invitee is a no-show, by the latest word on it.
    public var isNoShow: Bool {
        guard let noShow, noShow.value else { return false }
        guard let absent = noShowObservedAbsent else { return true }
        return noShow.version > absent.version
    }

    public var status: AppointmentStatus {
        if rescheduledTo != nil { return .rescheduled }
        if let canceled { return canceled.value.rescheduled ? .rescheduled : .canceled }
        return .scheduled
    }

    mutating func link(rescheduledTo uri: String) {
        rescheduledTo = Swift.min(rescheduledTo ?? uri, uri)
    }

    mutating func link(rescheduledFrom uri: String) {
        rescheduledFrom = Swift.min(rescheduledFrom ?? uri, uri)
    }

    enum CodingKeys: String, CodingKey {
        case created, canceled
        case inviteeURI = "invitee_uri", noShowSnapshot = "no_show_snapshot", noShow = "no_show"
        case noShowObservedAbsent = "no_show_observed_absent"
        case rescheduledTo = "rescheduled_to", rescheduledFrom = "rescheduled_from"
    }
}

/// Orders copies of one kind of fact: by the envelope `created_at`, then a rank that settles
/// a tie the way Calendly's lifecycle does (a no-show is deleted after it is created), then
/// the dedupe key, so even identical timestamps give one answer in every order.
public struct FactVersion: Codable, Sendable, Comparable {
    public var at: String
    public var rank: Int
    public var key: String

    public init(at: String, rank: Int = 0, key: String) {
        self.at = at
        self.rank = rank
        self.key = key
    }

    /// The rank of what reconciliation observed: below availd's own records (−1) and
    /// Calendly's deliveries (0, 1) of the same moment.
    public static let observed = -2

    public static func < (lhs: FactVersion, rhs: FactVersion) -> Bool {
        (lhs.at, lhs.rank, lhs.key) < (rhs.at, rhs.rank, rhs.key)
    }
}

public struct Versioned<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var version: FactVersion
    public var value: Value
}

extension Optional {
    /// Keeps whichever copy has the greater version. Two different bodies can share a version
    /// (Calendly's own examples reuse one envelope for different payloads); the larger
    /// canonical encoding then wins, so the choice never depends on arrival order.
    mutating func merge<Value>(_ value: Value, version: FactVersion) where Wrapped == Versioned<Value> {
        if let current = self {
            if current.version > version { return }
            if current.version == version {
                guard current.value != value, Self.canonical(value) > Self.canonical(current.value) else { return }
            }
        }
        self = Versioned(version: version, value: value)
    }

    private static func canonical(_ value: some Encodable) -> String {
        let encoder = JSONEncoder.canonical()
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }
}

/// What one delivery said about the invitee and its scheduled event; times are normalised.
public struct InviteeSnapshot: Codable, Sendable, Equatable {
    public var name: String?
    public var email: String?
    public var timezone: String?
    public var scheduledEventURI: String?
    public var eventTypeURI: String?
    public var startTime: Timestamp?
    public var endTime: Timestamp?
    /// `event_memberships[].user_email`, lower-cased, sorted, unique: how an expert is matched
    /// when neither the event type nor a host's user URI names one.
    public var hostEmails: [String]
    /// `event_memberships[].user`: the hosts' Calendly user URIs, sorted, unique.
    public var hostUsers: [String] = []
    public var createdAt: Timestamp?
    public var updatedAt: Timestamp?

    enum CodingKeys: String, CodingKey {
        case name, email, timezone
        case scheduledEventURI = "scheduled_event_uri", eventTypeURI = "event_type_uri"
        case startTime = "start_time", endTime = "end_time", hostEmails = "host_emails", hostUsers = "host_users"
        case createdAt = "created_at", updatedAt = "updated_at"
    }
}

extension InviteeSnapshot {
    /// Every key an expert can be matched by: the hosts' user URIs, then their emails.
    public var hostKeys: [String] { hostUsers + hostEmails }

    /// Whether the scheduled event's own fields are here (webhook payloads embed the event).
    var knowsItsEvent: Bool { startTime != nil || eventTypeURI != nil }

    mutating func fillEventFields(from other: InviteeSnapshot) {
        guard !knowsItsEvent, other.knowsItsEvent else { return }
        scheduledEventURI = scheduledEventURI ?? other.scheduledEventURI
        eventTypeURI = other.eventTypeURI
        startTime = other.startTime
        endTime = other.endTime
        hostEmails = other.hostEmails
        hostUsers = other.hostUsers
    }
}

public struct Cancellation: Codable, Sendable, Equatable {
    public var snapshot: InviteeSnapshot
    public var rescheduled: Bool
    public var canceledBy: String?
    public var reason: String?
    public var cancelerType: String?
    public var canceledAt: Timestamp?

    enum CodingKeys: String, CodingKey {
        case snapshot, rescheduled, reason
        case canceledBy = "canceled_by", cancelerType = "canceler_type", canceledAt = "canceled_at"
    }
}

public enum AppointmentStatus: String, Codable, Sendable, CaseIterable {
    case scheduled, canceled, rescheduled
}
