extension Appointment {
    /// The appointment's HTTP shape as one canonical line: what the digest hashes.
    public func canonicalJSON() -> [UInt8] {
        var writer = JSONWriter(capacity: 768)
        writer.object { fields in
            fields.string("calendar_type", calendarType)
            fields.value("cancellation", cancellation.map { cancellation in
                { writer in
                    writer.object { fields in
                        fields.string("canceled_at", cancellation.canceledAt?.description)
                        fields.string("canceled_by", cancellation.canceledBy)
                        fields.string("canceler_type", cancellation.cancelerType)
                        fields.string("reason", cancellation.reason)
                    }
                }
            })
            fields.string("created_at", createdAt?.description)
            fields.string("end_time", endTime?.description)
            fields.string("expert_id", expertID)
            fields.string("external_calendar_event_id", externalCalendarEventID)
            fields.string("external_invitee_uri", externalInviteeURI)
            fields.string("id", id)
            fields.value("invitee") { writer in
                writer.object { fields in
                    fields.string("email", invitee.email)
                    fields.string("name", invitee.name)
                    fields.string("timezone", invitee.timezone)
                }
            }
            fields.bool("no_show", noShow)
            fields.string("rescheduled_from", rescheduledFrom)
            fields.string("rescheduled_to", rescheduledTo)
            fields.string("start_time", startTime?.description)
            fields.string("status", status.rawValue)
            fields.string("updated_at", updatedAt?.description)
        }
        return writer.bytes
    }
}
