import AvailCore
import Foundation
import GRDB

/// An expert's Calendly OAuth tokens, as availd holds them.
public struct CalendlyTokens: Codable, Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    /// When the access token stops working, as Calendly said (`created_at + expires_in`).
    public var expiresAt: Timestamp

    public init(accessToken: String, refreshToken: String, expiresAt: Timestamp) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", refreshToken = "refresh_token", expiresAt = "expires_at"
    }
}

/// One expert's stored connection: the tokens, the Calendly user they belong to, and a
/// version that every rotation increments (so a writer can tell it raced another).
public struct StoredCalendlyCredentials: Sendable, Equatable {
    public var expertID: String
    public var userURI: String
    public var tokens: CalendlyTokens
    public var version: Int64
    public var needsReconnect: Bool

    public init(expertID: String, userURI: String, tokens: CalendlyTokens, version: Int64, needsReconnect: Bool) {
        self.expertID = expertID
        self.userURI = userURI
        self.tokens = tokens
        self.version = version
        self.needsReconnect = needsReconnect
    }
}

/// Calendly tokens in SQLite, sealed with AES-GCM (`TokenSealer`) and kept beside the log, never in it:
/// not in `/events`, `export`, the read models or an answer. Writes commit with
/// `synchronous=FULL`: a refresh token Calendly rotated must be on disk before the new access
/// token is used, or a crash would lose the connection.
public struct CalendlyCredentials: CalendlyCredentialStore {
    let database: AvailDatabase
    let sealer: TokenSealer

    public init(database: AvailDatabase, sealer: TokenSealer) {
        self.database = database
        self.sealer = sealer
    }

    /// Stores a new connection's tokens (a first connection, or a reconnect), replacing any.
    public func store(expertID: String, userURI: String, tokens: CalendlyTokens, at time: Timestamp) async throws {
        let sealed = try sealer.seal(tokens, expertID: expertID, userURI: userURI)
        try await database.durableWrite { db in
            let version = try Int64.fetchOne(db, sql: "SELECT version FROM calendly_credentials WHERE expert_id = ?", arguments: [expertID]) ?? 0
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO calendly_credentials
                        (expert_id, user_uri, sealed, version, expires_at, needs_reconnect, updated_at)
                    VALUES (?, ?, ?, ?, ?, 0, ?)
                    """,
                arguments: [expertID, userURI, sealed, version + 1, tokens.expiresAt.unixSeconds, time.description])
        }
    }

    /// The expert's credentials, opened; nil when there are none.
    public func load(expertID: String) async throws -> StoredCalendlyCredentials? {
        // Sendable values out of the closure, never a `Row`: with a non-Sendable result Swift
        // picks GRDB's synchronous `read`, which blocks a cooperative thread for a reader (and
        // with every such thread blocked, the daemon stops).
        let found = try await database.read { db -> (userURI: String, sealed: Data, version: Int64, needsReconnect: Bool)? in
            try Row.fetchOne(db, sql: "SELECT * FROM calendly_credentials WHERE expert_id = ?", arguments: [expertID]).map {
                ($0["user_uri"], $0["sealed"], $0["version"], $0["needs_reconnect"])
            }
        }
        guard let found else { return nil }
        return StoredCalendlyCredentials(
            expertID: expertID, userURI: found.userURI,
            tokens: try sealer.openTokens(found.sealed, expertID: expertID, userURI: found.userURI),
            version: found.version, needsReconnect: found.needsReconnect)
    }

    /// Replaces the tokens of version `version` with their rotation. False, and nothing
    /// written, when the stored version is another (someone else rotated or reconnected).
    public func rotate(
        expertID: String, userURI: String, from version: Int64, to tokens: CalendlyTokens, at time: Timestamp
    ) async throws -> Bool {
        let sealed = try sealer.seal(tokens, expertID: expertID, userURI: userURI)
        return try await database.durableWrite { db in
            try db.execute(
                sql: """
                    UPDATE calendly_credentials SET sealed = ?, version = version + 1, expires_at = ?, updated_at = ?
                    WHERE expert_id = ? AND version = ? AND user_uri = ?
                    """,
                arguments: [sealed, tokens.expiresAt.unixSeconds, time.description, expertID, version, userURI])
            return db.changesCount == 1
        }
    }

    /// Marks version `version` as refused by Calendly; false when it is no longer stored.
    public func markNeedsReconnect(expertID: String, version: Int64, at time: Timestamp) async throws -> Bool {
        try await database.durableWrite { db in
            try db.execute(
                sql: "UPDATE calendly_credentials SET needs_reconnect = 1, updated_at = ? WHERE expert_id = ? AND version = ?",
                arguments: [time.description, expertID, version])
            return db.changesCount == 1
        }
    }

    /// Erases the expert's tokens (a disconnect).
    public func erase(expertID: String) async throws {
        try await database.durableWrite { db in
            try db.execute(sql: "DELETE FROM calendly_credentials WHERE expert_id = ?", arguments: [expertID])
        }
    }

    /// The expert whose stored connection is `userURI`'s, if any.
    public func expert(holding userURI: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT expert_id FROM calendly_credentials WHERE user_uri = ?", arguments: [userURI])
        }
    }

}

/// An authorization under way: who asked, from which browser, with which PKCE verifier.
public struct PendingAuthorization: Sendable, Equatable {
    public var expertID: String
    public var browserHash: [UInt8]
    public var verifier: String
    public var expiresAt: Timestamp

    public init(expertID: String, browserHash: [UInt8], verifier: String, expiresAt: Timestamp) {
        self.expertID = expertID
        self.browserHash = browserHash
        self.verifier = verifier
        self.expiresAt = expiresAt
    }
}

/// The `state` of each OAuth authorization under way, kept by its SHA-256 (the value itself
/// travels only in URLs), with the verifier sealed. `take` deletes as it reads: a state works
/// once, whether the callback then succeeds or not.
public struct OAuthStates: OAuthStateStore {
    let database: AvailDatabase
    let sealer: TokenSealer

    public init(database: AvailDatabase, sealer: TokenSealer) {
        self.database = database
        self.sealer = sealer
    }

    public func create(state: String, _ pending: PendingAuthorization) async throws {
        let stateHash = Data(PKCE.hash(state))
        let sealed = try sealer.sealVerifier(pending.verifier, stateHash: Array(stateHash))
        try await database.durableWrite { db in
            // Expired ones are of no use to anyone.
            try db.execute(sql: "DELETE FROM oauth_states WHERE expires_at < ?", arguments: [Timestamp.now().unixSeconds])
            try db.execute(
                sql: "INSERT INTO oauth_states (state_hash, expert_id, browser_hash, sealed_verifier, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [stateHash, pending.expertID, Data(pending.browserHash), sealed, pending.expiresAt.unixSeconds])
        }
    }

    /// The pending authorization of `state`, removed; nil when there is none (unknown, or used).
    public func take(state: String) async throws -> PendingAuthorization? {
        let stateHash = Data(PKCE.hash(state))
        let taken = try await database.durableWrite { db -> (String, Data, Data, Int64)? in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM oauth_states WHERE state_hash = ?", arguments: [stateHash])
            try db.execute(sql: "DELETE FROM oauth_states WHERE state_hash = ?", arguments: [stateHash])
            return row.map { ($0["expert_id"], $0["browser_hash"], $0["sealed_verifier"], $0["expires_at"]) }
        }
        guard let (expertID, browserHash, sealed, expiresAt) = taken else { return nil }
        return PendingAuthorization(
            expertID: expertID, browserHash: Array(browserHash), verifier: try sealer.openVerifier(sealed, stateHash: Array(stateHash)),
            expiresAt: Timestamp(microseconds: expiresAt * 1_000_000))
    }

}
