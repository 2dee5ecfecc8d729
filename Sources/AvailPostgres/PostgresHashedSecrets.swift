import AvailCore
import AvailStore
import Foundation
import PostgresNIO

/// A `HashedSecretTable` in PostgreSQL (`expert_tokens`, `calendar_feeds`). Every write durable.
struct PostgresHashedSecrets<Credential: HashedSecret>: HashedSecretTable {
    let database: AvailPostgresDatabase
    /// A table of this module's migrations (never input).
    let table: String
    let labelled: Bool

    func issue(expertID: String, label: String?, at time: Timestamp) async throws -> Credential {
        let credential = Credential.generate()
        let hash = Data(credential.secretHash)
        try await database.durableQuery(labelled
            ? """
              INSERT INTO \(unescaped: table) (id, expert_id, label, secret_hash, created_at)
              VALUES (\(credential.id), \(expertID), \(label), \(hash), \(time.description))
              """
            : """
              INSERT INTO \(unescaped: table) (id, expert_id, secret_hash, created_at)
              VALUES (\(credential.id), \(expertID), \(hash), \(time.description))
              """)
        return credential
    }

    func expert(for credential: Credential) async throws -> String? {
        guard let row = try await database.query("""
            SELECT expert_id, secret_hash FROM \(unescaped: table) WHERE id = \(credential.id) AND revoked_at IS NULL
            """).first
        else { return nil }
        let (expertID, hash) = try row.decode((String, Data).self)
        return Credential.matches(secret: credential.secret, storedHash: Array(hash)) ? expertID : nil
    }

    func active(expertID: String) async throws -> [HashedSecretListing] {
        try await database.query("""
            SELECT id, expert_id, \(unescaped: labelled ? "label" : "NULL::text AS label"), created_at FROM \(unescaped: table)
            WHERE expert_id = \(expertID) AND revoked_at IS NULL ORDER BY created_at, id
            """).map { row in
            let (id, expertID, label, createdAt) = try row.decode((String, String, String?, String).self)
            return HashedSecretListing(id: id, expertID: expertID, label: label, createdAt: Timestamp(rfc3339: createdAt) ?? Timestamp(microseconds: 0))
        }
    }

    func revoke(expertID: String, id: String, at time: Timestamp) async throws -> Bool {
        try await database.durableQuery("""
            UPDATE \(unescaped: table) SET revoked_at = \(time.description)
            WHERE id = \(id) AND expert_id = \(expertID) AND revoked_at IS NULL RETURNING 1
            """).count == 1
    }
}

extension ExpertTokens {
    /// The tokens of a PostgreSQL database.
    public init(database: AvailPostgresDatabase) {
        self.init(table: PostgresHashedSecrets<ExpertToken>(database: database, table: "expert_tokens", labelled: true))
    }
}

extension CalendarFeeds {
    /// The feeds of a PostgreSQL database.
    public init(database: AvailPostgresDatabase) {
        self.init(table: PostgresHashedSecrets<CalendarFeedToken>(database: database, table: "calendar_feeds", labelled: false))
    }
}
