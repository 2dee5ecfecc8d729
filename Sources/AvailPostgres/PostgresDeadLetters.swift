import AvailCore
import AvailStore
import Foundation
import PostgresNIO

/// Dead letters in PostgreSQL (`DeadLetterStore`).
public struct PostgresDeadLetters: DeadLetterStore {
    let database: AvailPostgresDatabase

    public init(database: AvailPostgresDatabase) {
        self.database = database
    }

    @discardableResult
    public func add(receivedAt: Timestamp, code: String, reason: String, body: Data, signature: String?) async throws -> Int64 {
        let rows = try await database.durableQuery("""
            INSERT INTO dead_letters (received_at, code, reason, body, signature)
            VALUES (\(receivedAt.description), \(code), \(reason), \(body), \(signature)) RETURNING id
            """)
        return try rows[0].decode(Int64.self)
    }

    public func list(after id: Int64 = 0, limit: Int = 100) async throws -> [DeadLetter] {
        try await database.query("""
            SELECT id, received_at, code, reason, body, signature FROM dead_letters
            WHERE id > \(id) ORDER BY id LIMIT \(limit)
            """).map { row in
            let (id, receivedAt, code, reason, body, signature) = try row.decode((Int64, String, String, String, Data, String?).self)
            return DeadLetter(
                id: id, receivedAt: Timestamp(rfc3339: receivedAt) ?? Timestamp(microseconds: 0), code: code, reason: reason,
                body: body, signature: signature)
        }
    }
}
