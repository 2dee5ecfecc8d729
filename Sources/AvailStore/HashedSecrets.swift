import AvailCore
import Foundation
import GRDB

/// A credential as listed: never its secret.
public struct HashedSecretListing: Sendable, Equatable {
    public var id: String
    public var expertID: String
    public var label: String?
    public var createdAt: Timestamp

    public init(id: String, expertID: String, label: String?, createdAt: Timestamp) {
        self.id = id
        self.expertID = expertID
        self.label = label
        self.createdAt = createdAt
    }
}

/// One table of credentials issued to experts and kept by the SHA-256 of their secrets
/// (`expert_tokens`, `calendar_feeds`): issued, looked up on every use, listed, revoked. Access,
/// not domain state, so beside the log and never in it; every write durable, so a credential
/// handed out survives a power cut and a revoked one stays revoked. `HashedSecrets` keeps one
/// in SQLite, `PostgresHashedSecrets` (AvailPostgres) in PostgreSQL.
public protocol HashedSecretTable<Credential>: Sendable {
    associatedtype Credential: HashedSecret
    /// Issues a credential for `expertID`; its secret is never seen again.
    func issue(expertID: String, label: String?, at time: Timestamp) async throws -> Credential
    /// The expert `credential` belongs to, or `nil` when it is unknown, revoked, or wrong.
    func expert(for credential: Credential) async throws -> String?
    /// The expert's credentials that still work, oldest first.
    func active(expertID: String) async throws -> [HashedSecretListing]
    /// Revokes one of the expert's credentials; `false` when it has no such one that works.
    func revoke(expertID: String, id: String, at time: Timestamp) async throws -> Bool
}

/// A `HashedSecretTable` in SQLite.
struct HashedSecrets<Credential: HashedSecret>: HashedSecretTable {
    let database: AvailDatabase
    /// The table, a name of this module's migrations (never input): `id`, `expert_id`,
    /// `secret_hash`, `created_at`, `revoked_at`, and `label` when `labelled`.
    let table: String
    let labelled: Bool

    /// Issues a credential for `expertID`; its secret is never seen again.
    func issue(expertID: String, label: String?, at time: Timestamp) async throws -> Credential {
        let credential = Credential.generate()
        let sql = labelled
            ? "INSERT INTO \(table) (id, expert_id, label, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)"
            : "INSERT INTO \(table) (id, expert_id, secret_hash, created_at) VALUES (?, ?, ?, ?)"
        var arguments: StatementArguments = [credential.id, expertID]
        if labelled { arguments += [label] }
        arguments += [Data(credential.secretHash), time.description]
        try await database.durableWrite { [arguments] db in try db.execute(sql: sql, arguments: arguments) }
        return credential
    }

    /// The expert `credential` belongs to, or `nil` when it is unknown, revoked, or wrong.
    func expert(for credential: Credential) async throws -> String? {
        // Sendable values out of the closure, never a `Row`: with a non-Sendable result Swift
        // picks GRDB's synchronous `read`, which blocks a cooperative thread for a reader.
        let found = try await database.read { [table] db -> (expertID: String, hash: Data)? in
            try Row.fetchOne(
                db, sql: "SELECT expert_id, secret_hash FROM \(table) WHERE id = ? AND revoked_at IS NULL",
                arguments: [credential.id]
            ).map { ($0["expert_id"], $0["secret_hash"]) }
        }
        guard let found else { return nil }
        return Credential.matches(secret: credential.secret, storedHash: Array(found.hash)) ? found.expertID : nil
    }

    /// The expert's credentials that still work, oldest first.
    func active(expertID: String) async throws -> [HashedSecretListing] {
        let label = labelled ? "label" : "NULL AS label"
        return try await database.read { [table] db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, expert_id, \(label), created_at FROM \(table)
                    WHERE expert_id = ? AND revoked_at IS NULL ORDER BY created_at, id
                    """,
                arguments: [expertID]
            ).map { row in
                HashedSecretListing(
                    id: row["id"], expertID: row["expert_id"], label: row["label"],
                    createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microseconds: 0))
            }
        }
    }

    /// Revokes one of the expert's credentials; `false` when it has no such one that works.
    func revoke(expertID: String, id: String, at time: Timestamp) async throws -> Bool {
        try await database.durableWrite { [table] db in
            try db.execute(
                sql: "UPDATE \(table) SET revoked_at = ? WHERE id = ? AND expert_id = ? AND revoked_at IS NULL",
                arguments: [time.description, id, expertID])
            return db.changesCount == 1
        }
    }
}
