import AvailCore

/// `GET /experts/{id}`'s shape: every key present, nulls included.
struct ExpertView: Encodable {
    var expert: ExpertProfile

    enum CodingKeys: String, CodingKey {
        case id, name, email, timezone
        case integrationType = "integration_type", calendlyConfig = "calendly_config"
        case nativeSchedule = "native_schedule", createdAt = "created_at", updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(expert.id, forKey: .id)
        try container.encode(expert.name, forKey: .name)
        try container.encode(expert.email, forKey: .email)
        try container.encode(expert.timezone, forKey: .timezone)
        try container.encode(expert.integrationType, forKey: .integrationType)
        try container.encode(expert.calendlyConfig, forKey: .calendlyConfig)
        try container.encodeNil(forKey: .nativeSchedule)
        try container.encode(expert.createdAt, forKey: .createdAt)
        try container.encode(expert.updatedAt, forKey: .updatedAt)
    }
}

/// `GET /experts/{id}/appointments`'s shape.
struct AppointmentList: Encodable {
    var appointments: [Appointment]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case appointments
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(appointments, forKey: .appointments)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// `GET /parked`'s shape.
struct ParkedList: Encodable {
    struct Item: Encodable {
        var position: Int64
        var type: String
        var reason: String
        var recordedAt: Timestamp

        enum CodingKeys: String, CodingKey {
            case position, type, reason
            case recordedAt = "recorded_at"
        }
    }

    var parked: [Item]
    var nextAfter: Int64

    enum CodingKeys: String, CodingKey {
        case parked
        case nextAfter = "next_after"
    }
}
