import Foundation

extension AppointmentFacts {
    /// Reads what `canonicalJSON()` wrote (the projector reads facts back on every batch; this
    /// is several times faster than `JSONDecoder` and gives the same value).
    public init(canonicalJSON data: Data) throws {
        self = try data.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
            var facts = AppointmentFacts(inviteeURI: "")
            try scanner.object { scanner, key in
                switch key {
                case "invitee_uri": facts.inviteeURI = try scanner.string()
                case "created": facts.created = try scanner.versioned { try $0.snapshot() }
                case "canceled": facts.canceled = try scanner.versioned { try $0.cancellation() }
                case "no_show_snapshot": facts.noShowSnapshot = try scanner.versioned { try $0.snapshot() }
                case "no_show":
                    facts.noShow = try scanner.versioned { scanner in
                        guard let value = try scanner.optionalBool() else { throw JSONScanner.Failure(description: "no_show: expected a boolean") }
                        return value
                    }
                case "no_show_observed_absent":
                    facts.noShowObservedAbsent = try scanner.versioned { scanner in
                        guard let value = try scanner.optionalBool() else {
                            throw JSONScanner.Failure(description: "no_show_observed_absent: expected a boolean")
                        }
                        return value
                    }
                case "rescheduled_from": facts.rescheduledFrom = try scanner.optionalString()
                case "rescheduled_to": facts.rescheduledTo = try scanner.optionalString()
                default: try scanner.skipValue()
                }
            }
            try scanner.end()
            guard !facts.inviteeURI.isEmpty else { throw JSONScanner.Failure(description: "invitee_uri is missing") }
            return facts
        }
    }
}

extension JSONScanner {
    fileprivate mutating func versioned<Value>(_ value: (inout JSONScanner) throws -> Value) throws -> Versioned<Value>? {
        var result: Value?
        var version: FactVersion?
        guard try optionalObject({ scanner, key in
            switch key {
            case "value": result = try value(&scanner)
            case "version":
                var at = "", key = "", rank = 0
                try scanner.object { scanner, field in
                    switch field {
                    case "at": at = try scanner.string()
                    case "key": key = try scanner.string()
                    case "rank": rank = try scanner.integer()
                    default: try scanner.skipValue()
                    }
                }
                version = FactVersion(at: at, rank: rank, key: key)
            default: try scanner.skipValue()
            }
        }) else { return nil }
        guard let result, let version else { throw Failure(description: "a versioned fact needs value and version") }
        return Versioned(version: version, value: result)
    }

    fileprivate mutating func time() throws -> Timestamp? {
        guard let text = try optionalString() else { return nil }
        guard let time = Timestamp(rfc3339: text) else { throw Failure(description: "not an RFC 3339 time: \(text)") }
        return time
    }

    fileprivate mutating func snapshot() throws -> InviteeSnapshot {
        var snapshot = InviteeSnapshot(
            name: nil, email: nil, timezone: nil, scheduledEventURI: nil, eventTypeURI: nil, startTime: nil, endTime: nil,
            hostEmails: [], createdAt: nil, updatedAt: nil)
        try object { scanner, key in
            switch key {
            case "name": snapshot.name = try scanner.optionalString()
            case "email": snapshot.email = try scanner.optionalString()
            case "timezone": snapshot.timezone = try scanner.optionalString()
            case "scheduled_event_uri": snapshot.scheduledEventURI = try scanner.optionalString()
            case "event_type_uri": snapshot.eventTypeURI = try scanner.optionalString()
            case "start_time": snapshot.startTime = try scanner.time()
            case "end_time": snapshot.endTime = try scanner.time()
            case "created_at": snapshot.createdAt = try scanner.time()
            case "updated_at": snapshot.updatedAt = try scanner.time()
            case "host_emails": try scanner.array { snapshot.hostEmails.append(try $0.string()) }
            case "host_users": try scanner.array { snapshot.hostUsers.append(try $0.string()) }
            default: try scanner.skipValue()
            }
        }
        return snapshot
    }

    fileprivate mutating func cancellation() throws -> Cancellation {
        var snapshot: InviteeSnapshot?
        var cancellation = Cancellation(
            snapshot: InviteeSnapshot(
                name: nil, email: nil, timezone: nil, scheduledEventURI: nil, eventTypeURI: nil, startTime: nil,
                endTime: nil, hostEmails: [], createdAt: nil, updatedAt: nil),
            rescheduled: false, canceledBy: nil, reason: nil, cancelerType: nil, canceledAt: nil)
        try object { scanner, key in
            switch key {
            case "snapshot": snapshot = try scanner.snapshot()
            case "rescheduled": cancellation.rescheduled = try scanner.optionalBool() ?? false
            case "canceled_by": cancellation.canceledBy = try scanner.optionalString()
            case "reason": cancellation.reason = try scanner.optionalString()
            case "canceler_type": cancellation.cancelerType = try scanner.optionalString()
            case "canceled_at": cancellation.canceledAt = try scanner.time()
            default: try scanner.skipValue()
            }
        }
        guard let snapshot else { throw Failure(description: "a cancellation needs its snapshot") }
        cancellation.snapshot = snapshot
        return cancellation
    }
}
