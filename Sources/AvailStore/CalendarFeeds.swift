import AvailCore
import Foundation
import GRDB

/// A calendar feed as listed: never its secret.
public struct CalendarFeedRecord: Sendable, Equatable {
    public var id: String
    public var expertID: String
    public var createdAt: Timestamp
}

/// Calendar feeds: created by the expert (or the admin), looked up on every fetch by a
/// calendar app, revoked.
///
/// Like `ExpertTokens`: access, not domain state, so beside the log and never in it; only the
/// secret's SHA-256 is stored; writes commit with `synchronous=FULL`, so a feed handed out
/// survives a power cut and a revoked one stays revoked.
public struct CalendarFeeds: Sendable {
    public let database: any DatabaseWriter

    public init(database: any DatabaseWriter) {
        self.database = database
    }

    /// Creates a feed for `expertID`; the returned token's secret is never seen again.
    public func create(expertID: String, at time: Timestamp) async throws -> (CalendarFeedRecord, CalendarFeedToken) {
        let token = CalendarFeedToken.generate()
        let record = CalendarFeedRecord(id: token.id, expertID: expertID, createdAt: time)
        try await durableWrite { db in
            try db.execute(
                sql: "INSERT INTO calendar_feeds (id, expert_id, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                arguments: [record.id, expertID, Data(token.secretHash), time.description])
        }
        return (record, token)
    }

    /// The expert whose feed `token` opens, or `nil` when it is unknown, revoked, or wrong.
    public func expert(for token: CalendarFeedToken) async throws -> String? {
        // Sendable values out of the closure, never a `Row`: with a non-Sendable result Swift
        // picks GRDB's synchronous `read`, which blocks a cooperative thread for a reader.
        let found = try await database.read { db -> (expertID: String, hash: Data)? in
            try Row.fetchOne(
                db, sql: "SELECT expert_id, secret_hash FROM calendar_feeds WHERE id = ? AND revoked_at IS NULL",
                arguments: [token.id]
            ).map { ($0["expert_id"], $0["secret_hash"]) }
        }
        guard let found else { return nil }
        return CalendarFeedToken.matches(secret: token.secret, storedHash: Array(found.hash)) ? found.expertID : nil
    }

    /// The expert's feeds that still open, oldest first.
    public func active(expertID: String) async throws -> [CalendarFeedRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, expert_id, created_at FROM calendar_feeds
                    WHERE expert_id = ? AND revoked_at IS NULL ORDER BY created_at, id
                    """,
                arguments: [expertID]
            ).map { row in
                CalendarFeedRecord(
                    id: row["id"], expertID: row["expert_id"],
                    createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microseconds: 0))
            }
        }
    }

    /// Revokes one of the expert's feeds; `false` when it has no such open feed.
    public func revoke(expertID: String, feedID: String, at time: Timestamp) async throws -> Bool {
        try await durableWrite { db in
            try db.execute(
                sql: "UPDATE calendar_feeds SET revoked_at = ? WHERE id = ? AND expert_id = ? AND revoked_at IS NULL",
                arguments: [time.description, feedID, expertID])
            return db.changesCount == 1
        }
    }

    private func durableWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }
}
