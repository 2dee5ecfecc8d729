import AvailCore
import AvailStore
import Foundation
import PostgresNIO

/// Each expert's Calendly tokens in PostgreSQL (`CalendlyCredentialStore`), sealed as in SQLite:
/// a sealed value opens for its expert and Calendly user only. Every write durable.
public struct PostgresCalendlyCredentials: CalendlyCredentialStore {
    let database: AvailPostgresDatabase
    let sealer: TokenSealer

    public init(database: AvailPostgresDatabase, sealer: TokenSealer) {
        self.database = database
        self.sealer = sealer
    }

    public func store(expertID: String, userURI: String, tokens: CalendlyTokens, at time: Timestamp) async throws {
        let sealed = try sealer.seal(tokens, expertID: expertID, userURI: userURI)
        try await database.durableQuery("""
            INSERT INTO calendly_credentials (expert_id, user_uri, sealed, version, expires_at, needs_reconnect, updated_at)
            VALUES (\(expertID), \(userURI), \(sealed), 1, \(tokens.expiresAt.unixSeconds), false, \(time.description))
            ON CONFLICT (expert_id) DO UPDATE SET user_uri = excluded.user_uri, sealed = excluded.sealed,
                version = calendly_credentials.version + 1, expires_at = excluded.expires_at, needs_reconnect = false,
                updated_at = excluded.updated_at
            """)
    }

    public func load(expertID: String) async throws -> StoredCalendlyCredentials? {
        guard let row = try await database.query("""
            SELECT user_uri, sealed, version, needs_reconnect FROM calendly_credentials WHERE expert_id = \(expertID)
            """).first
        else { return nil }
        let (userURI, sealed, version, needsReconnect) = try row.decode((String, Data, Int64, Bool).self)
        return StoredCalendlyCredentials(
            expertID: expertID, userURI: userURI, tokens: try sealer.openTokens(sealed, expertID: expertID, userURI: userURI),
            version: version, needsReconnect: needsReconnect)
    }

    public func rotate(
        expertID: String, userURI: String, from version: Int64, to tokens: CalendlyTokens, at time: Timestamp
    ) async throws -> Bool {
        let sealed = try sealer.seal(tokens, expertID: expertID, userURI: userURI)
        return try await database.durableQuery("""
            UPDATE calendly_credentials SET sealed = \(sealed), version = version + 1, expires_at = \(tokens.expiresAt.unixSeconds),
                updated_at = \(time.description)
            WHERE expert_id = \(expertID) AND version = \(version) AND user_uri = \(userURI) RETURNING 1
            """).count == 1
    }

    public func markNeedsReconnect(expertID: String, version: Int64, at time: Timestamp) async throws -> Bool {
        try await database.durableQuery("""
            UPDATE calendly_credentials SET needs_reconnect = true, updated_at = \(time.description)
            WHERE expert_id = \(expertID) AND version = \(version) RETURNING 1
            """).count == 1
    }

    public func erase(expertID: String) async throws {
        try await database.durableQuery("DELETE FROM calendly_credentials WHERE expert_id = \(expertID)")
    }

    public func expert(holding userURI: String) async throws -> String? {
        try await database.query("SELECT expert_id FROM calendly_credentials WHERE user_uri = \(userURI) LIMIT 1")
            .first?.decode(String.self)
    }
}

/// The OAuth authorizations under way in PostgreSQL (`OAuthStateStore`): `take` deletes as it
/// reads, in one statement, so two callbacks with one state cannot both have it.
public struct PostgresOAuthStates: OAuthStateStore {
    let database: AvailPostgresDatabase
    let sealer: TokenSealer

    public init(database: AvailPostgresDatabase, sealer: TokenSealer) {
        self.database = database
        self.sealer = sealer
    }

    public func create(state: String, _ pending: PendingAuthorization) async throws {
        let stateHash = PKCE.hash(state)
        let sealed = try sealer.sealVerifier(pending.verifier, stateHash: Array(stateHash))
        let now = Timestamp.now().unixSeconds
        try await database.durableTransaction { connection in
            // Expired ones are of no use to anyone.
            try await connection.query("DELETE FROM oauth_states WHERE expires_at < \(now)", logger: database.logger)
            try await connection.query("""
                INSERT INTO oauth_states (state_hash, expert_id, browser_hash, sealed_verifier, expires_at)
                VALUES (\(Data(stateHash)), \(pending.expertID), \(Data(pending.browserHash)), \(sealed), \(pending.expiresAt.unixSeconds))
                """, logger: database.logger)
        }
    }

    public func take(state: String) async throws -> PendingAuthorization? {
        let stateHash = PKCE.hash(state)
        guard let row = try await database.durableQuery("""
            DELETE FROM oauth_states WHERE state_hash = \(Data(stateHash))
            RETURNING expert_id, browser_hash, sealed_verifier, expires_at
            """).first
        else { return nil }
        let (expertID, browserHash, sealed, expiresAt) = try row.decode((String, Data, Data, Int64).self)
        return PendingAuthorization(
            expertID: expertID, browserHash: Array(browserHash), verifier: try sealer.openVerifier(sealed, stateHash: Array(stateHash)),
            expiresAt: Timestamp(microseconds: expiresAt * 1_000_000))
    }
}
