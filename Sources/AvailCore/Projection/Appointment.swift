import Crypto

/// An appointment as read models and HTTP show it: a pure function of an invitee's facts and
/// the expert it is assigned to.
public struct Appointment: Codable, Sendable, Equatable {
    public var id: String
    public var expertID: String?
    public var calendarType: String
    public var externalCalendarEventID: String?
    /// The Calendly invitee; nil for appointments availd booked itself.
    public var externalInviteeURI: String?
    public var status: AppointmentStatus
    public var startTime: Timestamp?
    public var endTime: Timestamp?
    public var invitee: Invitee
    public var rescheduledFrom: String?
    public var rescheduledTo: String?
    public var cancellation: CancellationView?
    public var noShow: Bool
    public var createdAt: Timestamp?
    public var updatedAt: Timestamp?

    public struct Invitee: Codable, Sendable, Equatable {
        public var name: String?
        public var email: String?
        public var timezone: String?

        public init(name: String?, email: String?, timezone: String?) {
            self.name = name
            self.email = email
            self.timezone = timezone
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(email, forKey: .email)
            try container.encode(timezone, forKey: .timezone)
        }
    }

    public struct CancellationView: Codable, Sendable, Equatable {
        public var canceledBy: String?
        public var reason: String?
        public var cancelerType: String?
        public var canceledAt: Timestamp?

        public init(canceledBy: String?, reason: String?, cancelerType: String?, canceledAt: Timestamp?) {
            self.canceledBy = canceledBy
            self.reason = reason
            self.cancelerType = cancelerType
            self.canceledAt = canceledAt
        }

        enum CodingKeys: String, CodingKey {
            case reason
            case canceledBy = "canceled_by", cancelerType = "canceler_type", canceledAt = "canceled_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(canceledBy, forKey: .canceledBy)
            try container.encode(reason, forKey: .reason)
            try container.encode(cancelerType, forKey: .cancelerType)
            try container.encode(canceledAt, forKey: .canceledAt)
        }
    }

    /// nil while the log has named the invitee (say, as the other half of a reschedule) but
    /// not yet described it. `id`, when given, is `Appointment.id(inviteeURI: facts.inviteeURI)`,
    /// which a rebuild has already made to sort by.
    public init?(facts: AppointmentFacts, expertID: String?, id: String? = nil) {
        guard let snapshot = facts.snapshot else { return nil }
        self.id = id ?? Self.id(inviteeURI: facts.inviteeURI)
        self.expertID = expertID
        self.calendarType = "calendly"
        self.externalCalendarEventID = snapshot.scheduledEventURI.flatMap(Self.lastSegment)
        self.externalInviteeURI = facts.inviteeURI
        self.status = facts.status
        self.startTime = snapshot.startTime
        self.endTime = snapshot.endTime
        self.invitee = Invitee(name: snapshot.name, email: snapshot.email, timezone: snapshot.timezone)
        self.rescheduledFrom = facts.rescheduledFrom.map(Self.id(inviteeURI:))
        self.rescheduledTo = facts.rescheduledTo.map(Self.id(inviteeURI:))
        self.cancellation = facts.canceled.map {
            CancellationView(
                canceledBy: $0.value.canceledBy, reason: $0.value.reason, cancelerType: $0.value.cancelerType,
                canceledAt: $0.value.canceledAt)
        }
        self.noShow = facts.isNoShow
        self.createdAt = snapshot.createdAt
        let times: [Timestamp?] = [
            facts.created?.value.updatedAt, facts.canceled?.value.snapshot.updatedAt, facts.canceled?.value.canceledAt,
            facts.noShowSnapshot?.value.updatedAt, facts.noShow.flatMap { Timestamp(rfc3339: $0.version.at) },
        ]
        self.updatedAt = times.compactMap { $0 }.max()
    }

    public init(
        id: String, expertID: String?, calendarType: String, externalCalendarEventID: String?,
        externalInviteeURI: String?, status: AppointmentStatus, startTime: Timestamp?, endTime: Timestamp?,
        invitee: Invitee, rescheduledFrom: String?, rescheduledTo: String?, cancellation: CancellationView?,
        noShow: Bool, createdAt: Timestamp?, updatedAt: Timestamp?
    ) {
        self.id = id
        self.expertID = expertID
        self.calendarType = calendarType
        self.externalCalendarEventID = externalCalendarEventID
        self.externalInviteeURI = externalInviteeURI
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.invitee = invitee
        self.rescheduledFrom = rescheduledFrom
        self.rescheduledTo = rescheduledTo
        self.cancellation = cancellation
        self.noShow = noShow
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A stable id: a UUID (version 8) made from the SHA-256 of the invitee URI, so a rebuild,
    /// another machine, or the other half of a reschedule pair all name it alike. The URI is
    /// taken in NFC, as the fold keys it (`String.nfc`): both spellings name one appointment.
    public static func id(inviteeURI: String) -> String {
        var hasher = SHA256()
        hasher.update(data: idPrefix)
        var uri = inviteeURI.nfc
        uri.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return Hex.uuid(bytes)
    }

    private static let idPrefix = Array("calendly-invitee:".utf8)

    /// The last non-empty segment between slashes. ASCII (every URI Calendly mints) is cut by
    /// bytes: splitting by `Character` was a third of making a rebuild's rows.
    static func lastSegment(_ uri: String) -> String? {
        guard uri.isASCII else { return uri.split(separator: "/").last.map(String.init) }
        let utf8 = uri.utf8
        guard let end = utf8.lastIndex(where: { $0 != UInt8(ascii: "/") }) else { return nil }
        let start = utf8[..<end].lastIndex(of: UInt8(ascii: "/")).map(utf8.index(after:)) ?? utf8.startIndex
        return String(uri[start...end])
    }

    enum CodingKeys: String, CodingKey {
        case id, status, invitee, cancellation
        case expertID = "expert_id", calendarType = "calendar_type"
        case externalCalendarEventID = "external_calendar_event_id", externalInviteeURI = "external_invitee_uri"
        case startTime = "start_time", endTime = "end_time", rescheduledFrom = "rescheduled_from"
        case rescheduledTo = "rescheduled_to", noShow = "no_show", createdAt = "created_at", updatedAt = "updated_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(expertID, forKey: .expertID)
        try container.encode(calendarType, forKey: .calendarType)
        try container.encode(externalCalendarEventID, forKey: .externalCalendarEventID)
        try container.encode(externalInviteeURI, forKey: .externalInviteeURI)
        try container.encode(status, forKey: .status)
        try container.encode(startTime, forKey: .startTime)
        try container.encode(endTime, forKey: .endTime)
        try container.encode(invitee, forKey: .invitee)
        try container.encode(rescheduledFrom, forKey: .rescheduledFrom)
        try container.encode(rescheduledTo, forKey: .rescheduledTo)
        try container.encode(cancellation, forKey: .cancellation)
        try container.encode(noShow, forKey: .noShow)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}
