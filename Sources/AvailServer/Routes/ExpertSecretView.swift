import AvailCore
import AvailStore

/// An expert token or a calendar feed as answers show it: `id`, `expert_id`, `created_at`, and
/// a token's `label` (null when it has none; a feed has no such key). The secret (a token's
/// `token`, a feed's `url`) appears only in the one answer that hands it out.
struct ExpertSecretView: Encodable {
    enum Kind {
        case token(label: String?)
        case calendarFeed
    }

    var id: String
    var expertID: String
    var createdAt: Timestamp
    var kind: Kind
    var revealed: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, label, token, url
        case expertID = "expert_id"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(expertID, forKey: .expertID)
        try container.encode(createdAt, forKey: .createdAt)
        switch kind {
        case .token(let label):
            try container.encode(label, forKey: .label)
            try container.encodeIfPresent(revealed, forKey: .token)
        case .calendarFeed:
            try container.encodeIfPresent(revealed, forKey: .url)
        }
    }
}

extension ExpertSecretView {
    init(_ record: ExpertTokenRecord, bearer: String? = nil) {
        self.init(id: record.id, expertID: record.expertID, createdAt: record.createdAt, kind: .token(label: record.label), revealed: bearer)
    }

    init(_ record: CalendarFeedRecord, url: String? = nil) {
        self.init(id: record.id, expertID: record.expertID, createdAt: record.createdAt, kind: .calendarFeed, revealed: url)
    }
}
