import AvailCore

/// An issued expert token as listed: never its secret.
public typealias ExpertTokenRecord = HashedSecretListing

/// Expert tokens: issued, looked up on every authenticated request, revoked (`HashedSecretTable`:
/// only the secret's SHA-256 is stored, and every write is durable), in either backend.
public struct ExpertTokens: ExpertTokenStore {
    private let secrets: any HashedSecretTable<ExpertToken>

    /// The tokens of an SQLite database.
    public init(database: AvailDatabase) {
        self.init(table: HashedSecrets(database: database, table: "expert_tokens", labelled: true))
    }

    /// The tokens kept in `table` (another backend's `expert_tokens`).
    public init(table: any HashedSecretTable<ExpertToken>) {
        secrets = table
    }

    /// Issues a token for `expertID`; the returned token's secret is never seen again.
    public func issue(expertID: String, label: String?, at time: Timestamp) async throws -> (ExpertTokenRecord, ExpertToken) {
        let token = try await secrets.issue(expertID: expertID, label: label, at: time)
        return (ExpertTokenRecord(id: token.id, expertID: expertID, label: label, createdAt: time), token)
    }

    /// The expert a presented token belongs to, or `nil` when it is unknown, revoked, or wrong.
    public func expert(for token: ExpertToken) async throws -> String? {
        try await secrets.expert(for: token)
    }

    /// The expert's tokens that are still valid, oldest first.
    public func active(expertID: String) async throws -> [ExpertTokenRecord] {
        try await secrets.active(expertID: expertID)
    }

    /// Revokes one of the expert's tokens; `false` when it has no such valid token.
    public func revoke(expertID: String, tokenID: String, at time: Timestamp) async throws -> Bool {
        try await secrets.revoke(expertID: expertID, id: tokenID, at: time)
    }
}
