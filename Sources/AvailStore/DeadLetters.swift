import AvailCore
import Foundation
import GRDB

/// A signed body that could not be logged, kept with its raw bytes so nothing is lost.
public struct DeadLetter: Sendable, Equatable {
    public var id: Int64
    public var receivedAt: Timestamp
    public var code: String
    public var reason: String
    public var body: Data
    public var signature: String?

    public init(id: Int64, receivedAt: Timestamp, code: String, reason: String, body: Data, signature: String?) {
        self.id = id
        self.receivedAt = receivedAt
        self.code = code
        self.reason = reason
        self.body = body
        self.signature = signature
    }
}

/// Where signed-but-unusable deliveries go: never into the log, never dropped.
public struct DeadLetters: DeadLetterStore {
    let database: AvailDatabase

    public init(database: AvailDatabase) {
        self.database = database
    }

    @discardableResult
    public func add(receivedAt: Timestamp, code: String, reason: String, body: Data, signature: String?) async throws -> Int64 {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO dead_letters (received_at, code, reason, body, signature) VALUES (?, ?, ?, ?, ?)",
                arguments: [receivedAt.description, code, reason, body, signature]
            )
            return db.lastInsertedRowID
        }
    }

    /// Up to `limit` dead letters after `id`, oldest first.
    public func list(after id: Int64 = 0, limit: Int = 100) async throws -> [DeadLetter] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM dead_letters WHERE id > ? ORDER BY id LIMIT ?",
                arguments: [id, limit]
            ).map { row in
                DeadLetter(
                    id: row["id"],
                    receivedAt: Timestamp(rfc3339: row["received_at"]) ?? Timestamp(microseconds: 0),
                    code: row["code"],
                    reason: row["reason"],
                    body: row["body"],
                    signature: row["signature"]
                )
            }
        }
    }
}
