import AvailCore

/// A calendar feed as listed: never its secret.
public struct CalendarFeedRecord: Sendable, Equatable {
    public var id: String
    public var expertID: String
    public var createdAt: Timestamp

    public init(id: String, expertID: String, createdAt: Timestamp) {
        self.id = id
        self.expertID = expertID
        self.createdAt = createdAt
    }
}

/// Calendar feeds: created by the expert (or the admin), looked up on every fetch by a
/// calendar app, revoked. Kept like expert tokens (`HashedSecrets`): only the secret's SHA-256
/// is stored, and every write is durable.
public struct CalendarFeeds: CalendarFeedStore {
    private let secrets: any HashedSecretTable<CalendarFeedToken>

    /// The feeds of an SQLite database.
    public init(database: AvailDatabase) {
        self.init(table: HashedSecrets(database: database, table: "calendar_feeds", labelled: false))
    }

    /// The feeds kept in `table` (another backend's `calendar_feeds`).
    public init(table: any HashedSecretTable<CalendarFeedToken>) {
        secrets = table
    }

    /// Creates a feed for `expertID`; the returned token's secret is never seen again.
    public func create(expertID: String, at time: Timestamp) async throws -> (CalendarFeedRecord, CalendarFeedToken) {
        let token = try await secrets.issue(expertID: expertID, label: nil, at: time)
        return (CalendarFeedRecord(id: token.id, expertID: expertID, createdAt: time), token)
    }

    /// The expert whose feed `token` opens, or `nil` when it is unknown, revoked, or wrong.
    public func expert(for token: CalendarFeedToken) async throws -> String? {
        try await secrets.expert(for: token)
    }

    /// The expert's feeds that still open, oldest first.
    public func active(expertID: String) async throws -> [CalendarFeedRecord] {
        try await secrets.active(expertID: expertID).map { CalendarFeedRecord(id: $0.id, expertID: $0.expertID, createdAt: $0.createdAt) }
    }

    /// Revokes one of the expert's feeds; `false` when it has no such open feed.
    public func revoke(expertID: String, feedID: String, at time: Timestamp) async throws -> Bool {
        try await secrets.revoke(expertID: expertID, id: feedID, at: time)
    }
}
