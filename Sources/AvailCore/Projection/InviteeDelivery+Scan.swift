import Foundation

extension InviteeDelivery {
    /// Reads the envelope and the invitee payload of `body` with `JSONScanner`; the same
    /// result as `JSONDecoder().decode(InviteeDelivery.self, from: body)`.
    package static func scan(_ body: Data) throws -> InviteeDelivery {
        try body.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
            var event: String?
            var createdAt: String?
            var payload: InviteePayload?
            try scanner.object { scanner, key in
                switch key {
                case "event": event = try scanner.string()
                case "created_at": createdAt = try scanner.optionalString()
                case "payload": payload = try InviteePayload.scan(&scanner)
                default: try scanner.skipValue()
                }
            }
            try scanner.end()
            guard let event else { throw JSONScanner.Failure(description: "event is missing") }
            guard let payload else { throw JSONScanner.Failure(description: "payload is missing") }
            return InviteeDelivery(event: event, createdAt: createdAt, payload: payload)
        }
    }
}

extension InviteePayload {
    static func scan(_ scanner: inout JSONScanner) throws -> InviteePayload {
        var payload = InviteePayload()
        try scanner.object { scanner, key in
            switch key {
            case "uri": payload.uri = try scanner.optionalString()
            case "email": payload.email = try scanner.optionalString()
            case "name": payload.name = try scanner.optionalString()
            case "timezone": payload.timezone = try scanner.optionalString()
            case "status": payload.status = try scanner.optionalString()
            case "event": payload.event = try scanner.optionalString()
            case "created_at": payload.createdAt = try scanner.optionalString()
            case "updated_at": payload.updatedAt = try scanner.optionalString()
            case "rescheduled": payload.rescheduled = try scanner.optionalBool()
            case "old_invitee": payload.oldInvitee = try scanner.optionalString()
            case "new_invitee": payload.newInvitee = try scanner.optionalString()
            case "invitee": payload.invitee = try scanner.optionalString()
            case "cancellation":
                var cancellation = CancellationPayload()
                if try scanner.optionalObject({ scanner, key in
                    switch key {
                    case "canceled_by": cancellation.canceledBy = try scanner.optionalString()
                    case "reason": cancellation.reason = try scanner.optionalString()
                    case "canceler_type": cancellation.cancelerType = try scanner.optionalString()
                    case "created_at": cancellation.createdAt = try scanner.optionalString()
                    default: try scanner.skipValue()
                    }
                }) {
                    payload.cancellation = cancellation
                } else {
                    payload.cancellation = nil
                }
            case "no_show":
                var noShow = NoShowPayload()
                if try scanner.optionalObject({ scanner, key in
                    switch key {
                    case "uri": noShow.uri = try scanner.optionalString()
                    case "created_at": noShow.createdAt = try scanner.optionalString()
                    default: try scanner.skipValue()
                    }
                }) {
                    payload.noShow = noShow
                } else {
                    payload.noShow = nil
                }
            case "scheduled_event":
                var event = ScheduledEventPayload()
                if try scanner.optionalObject({ scanner, key in try event.scanField(key, &scanner) }) {
                    payload.scheduledEvent = event
                } else {
                    payload.scheduledEvent = nil
                }
            default:
                try scanner.skipValue()
            }
        }
        return payload
    }
}

extension ScheduledEventPayload {
    mutating func scanField(_ key: JSONScanner.Key, _ scanner: inout JSONScanner) throws {
        switch key {
        case "uri": uri = try scanner.optionalString()
        case "start_time": startTime = try scanner.optionalString()
        case "end_time": endTime = try scanner.optionalString()
        case "event_type": eventType = try scanner.optionalString()
        case "event_memberships":
            if try scanner.null() {
                eventMemberships = nil
                return
            }
            var memberships: [Membership] = []
            try scanner.array { scanner in
                var membership = Membership()
                guard try scanner.optionalObject({ scanner, key in
                    switch key {
                    case "user": membership.user = try scanner.optionalString()
                    case "user_email": membership.userEmail = try scanner.optionalString()
                    default: try scanner.skipValue()
                    }
                }) else { throw JSONScanner.Failure(description: "event_memberships: expected an object") }
                memberships.append(membership)
            }
            eventMemberships = memberships
        default:
            try scanner.skipValue()
        }
    }
}
