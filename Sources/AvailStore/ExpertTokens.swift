import AvailCore
import Foundation
import GRDB

/// An issued expert token as listed: never its secret.
public struct ExpertTokenRecord: Sendable, Equatable {
    public var id: String
    public var expertID: String
    public var label: String?
    public var createdAt: Timestamp
}

/// Expert tokens: issued, looked up on every authenticated request, revoked.
///
/// Writes commit with `synchronous=FULL`, like the log's: a token handed out must survive a
/// power cut, and a revoked one must stay revoked.
public struct ExpertTokens: Sendable {
    public let database: any DatabaseWriter

    public init(database: any DatabaseWriter) {
        self.database = database
    }

    /// Issues a token for `expertID`; the returned token's secret is never seen again.
    public func issue(expertID: String, label: String?, at time: Timestamp) async throws -> (ExpertTokenRecord, ExpertToken) {
        let token = ExpertToken.generate()
        let record = ExpertTokenRecord(id: token.id, expertID: expertID, label: label, createdAt: time)
        try await durableWrite { db in
            try db.execute(
                sql: "INSERT INTO expert_tokens (id, expert_id, label, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [record.id, expertID, label, Data(token.secretHash), time.description])
        }
        return (record, token)
    }

    /// The expert a presented token belongs to, or `nil` when it is unknown, revoked, or wrong.
    public func expert(for token: ExpertToken) async throws -> String? {
        // Sendable values out of the closure, never a `Row`: with a non-Sendable result Swift
        // picks GRDB's synchronous `read`, which blocks a cooperative thread for a reader.
        let found = try await database.read { db -> (expertID: String, hash: Data)? in
            try Row.fetchOne(
                db, sql: "SELECT expert_id, secret_hash FROM expert_tokens WHERE id = ? AND revoked_at IS NULL",
                arguments: [token.id]
            ).map { ($0["expert_id"], $0["secret_hash"]) }
        }
        guard let found else { return nil }
        return ExpertToken.matches(secret: token.secret, storedHash: Array(found.hash)) ? found.expertID : nil
    }

    /// The expert's tokens that are still valid, oldest first.
    public func active(expertID: String) async throws -> [ExpertTokenRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, expert_id, label, created_at FROM expert_tokens
                    WHERE expert_id = ? AND revoked_at IS NULL ORDER BY created_at, id
                    """,
                arguments: [expertID]
            ).map { row in
                ExpertTokenRecord(
                    id: row["id"], expertID: row["expert_id"], label: row["label"],
                    createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microseconds: 0))
            }
        }
    }

    /// Revokes one of the expert's tokens; `false` when it has no such valid token.
    public func revoke(expertID: String, tokenID: String, at time: Timestamp) async throws -> Bool {
        try await durableWrite { db in
            try db.execute(
                sql: "UPDATE expert_tokens SET revoked_at = ? WHERE id = ? AND expert_id = ? AND revoked_at IS NULL",
                arguments: [time.description, tokenID, expertID])
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
