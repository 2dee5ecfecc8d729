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
        var statement = PostgresQuery(unsafeSQL: labelled
            ? "INSERT INTO \(table) (id, expert_id, label, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)"
            : "INSERT INTO \(table) (id, expert_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)")
        try statement.binds.append(credential.id, context: .default)
        try statement.binds.append(expertID, context: .default)
        if labelled { statement.binds.append(label, context: .default) }
        try statement.binds.append(Data(credential.secretHash), context: .default)
        try statement.binds.append(time.description, context: .default)
        try await database.durableQuery(statement)
        return credential
    }

    func expert(for credential: Credential) async throws -> String? {
        var statement = PostgresQuery(unsafeSQL: "SELECT expert_id, secret_hash FROM \(table) WHERE id = $1 AND revoked_at IS NULL")
        try statement.binds.append(credential.id, context: .default)
        guard let row = try await database.query(statement).first else { return nil }
        let (expertID, hash) = try row.decode((String, Data).self)
        return Credential.matches(secret: credential.secret, storedHash: Array(hash)) ? expertID : nil
    }

    func active(expertID: String) async throws -> [HashedSecretListing] {
        var statement = PostgresQuery(unsafeSQL: """
            SELECT id, expert_id, \(labelled ? "label" : "NULL::text AS label"), created_at FROM \(table)
            WHERE expert_id = $1 AND revoked_at IS NULL ORDER BY created_at, id
            """)
        try statement.binds.append(expertID, context: .default)
        return try await database.query(statement).map { row in
            let (id, expertID, label, createdAt) = try row.decode((String, String, String?, String).self)
            return HashedSecretListing(id: id, expertID: expertID, label: label, createdAt: Timestamp(rfc3339: createdAt) ?? Timestamp(microseconds: 0))
        }
    }

    func revoke(expertID: String, id: String, at time: Timestamp) async throws -> Bool {
        var statement = PostgresQuery(unsafeSQL: """
            UPDATE \(table) SET revoked_at = $1 WHERE id = $2 AND expert_id = $3 AND revoked_at IS NULL RETURNING 1
            """)
        try statement.binds.append(time.description, context: .default)
        try statement.binds.append(id, context: .default)
        try statement.binds.append(expertID, context: .default)
        return try await database.durableQuery(statement).count == 1
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
