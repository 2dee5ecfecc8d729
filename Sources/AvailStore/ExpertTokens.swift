import AvailCore
import GRDB

/// An issued expert token as listed: never its secret.
public struct ExpertTokenRecord: Sendable, Equatable {
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

/// Expert tokens: issued, looked up on every authenticated request, revoked (`HashedSecrets`:
/// only the secret's SHA-256 is stored, and every write is durable).
public struct ExpertTokens: ExpertTokenStore {
    let database: AvailDatabase
    private let secrets: HashedSecrets<ExpertToken>

    public init(database: AvailDatabase) {
        self.database = database
        secrets = HashedSecrets(database: database, table: "expert_tokens", labelled: true)
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
        try await secrets.active(expertID: expertID).map {
            ExpertTokenRecord(id: $0.id, expertID: $0.expertID, label: $0.label, createdAt: $0.createdAt)
        }
    }

    /// Revokes one of the expert's tokens; `false` when it has no such valid token.
    public func revoke(expertID: String, tokenID: String, at time: Timestamp) async throws -> Bool {
        try await secrets.revoke(expertID: expertID, id: tokenID, at: time)
    }
}
