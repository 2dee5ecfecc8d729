import AvailCore
import Foundation
import GRDB

/// Where each expert's reconciliation stands: the pass under way (its window and the next page,
/// so a restart goes on from there) and the last complete one. Operational state, beside the
/// log and never in it; losing it only means a page is read again.
public struct ReconcileProgress: Sendable, Equatable {
    public var expertID: String
    public var userURI: String
    /// The pass under way: its `min_start_time`, the page to read next (nil: the first), and
    /// when it started. All nil when no pass is under way.
    public var windowStart: Timestamp?
    public var pageToken: String?
    public var startedAt: Timestamp?
    /// When the last complete pass started: the next window starts from there, less a margin.
    public var completedAt: Timestamp?
    public var lastAppended: Int
    public var lastError: String?
    public var updatedAt: Timestamp

    public var isUnderWay: Bool { windowStart != nil }

    public init(
        expertID: String, userURI: String, windowStart: Timestamp?, pageToken: String?, startedAt: Timestamp?,
        completedAt: Timestamp?, lastAppended: Int, lastError: String?, updatedAt: Timestamp
    ) {
        self.expertID = expertID
        self.userURI = userURI
        self.windowStart = windowStart
        self.pageToken = pageToken
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.lastAppended = lastAppended
        self.lastError = lastError
        self.updatedAt = updatedAt
    }
}

/// Reconciliation's progress in SQLite.
public struct ReconcileProgressRecords: ReconcileProgressStore {
    let database: AvailDatabase

    public init(database: AvailDatabase) {
        self.database = database
    }

    public func load(expertID: String) async throws -> ReconcileProgress? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM reconcile_progress WHERE expert_id = ?", arguments: [expertID])
                .map(ReconcileProgress.init(row:))
        }
    }

    public func all() async throws -> [ReconcileProgress] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reconcile_progress ORDER BY expert_id").map(ReconcileProgress.init(row:))
        }
    }

    /// Starts a pass over `expertID`'s events from `windowStart` (replacing any under way).
    public func begin(expertID: String, userURI: String, windowStart: Timestamp, at time: Timestamp) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO reconcile_progress (expert_id, user_uri, window_start, page_token, started_at, updated_at)
                    VALUES (?, ?, ?, NULL, ?, ?)
                    ON CONFLICT (expert_id) DO UPDATE SET user_uri = excluded.user_uri, window_start = excluded.window_start,
                        page_token = NULL, started_at = excluded.started_at, updated_at = excluded.updated_at
                    """,
                arguments: [expertID, userURI, windowStart.description, time.description, time.description])
        }
    }

    /// The pages before `pageToken` are done.
    public func advance(expertID: String, pageToken: String, at time: Timestamp) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE reconcile_progress SET page_token = ?, updated_at = ? WHERE expert_id = ?",
                arguments: [pageToken, time.description, expertID])
        }
    }

    /// The pass under way is complete: the next one starts from its start.
    public func complete(expertID: String, appended: Int, at time: Timestamp) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE reconcile_progress SET completed_at = started_at, window_start = NULL, page_token = NULL,
                        started_at = NULL, last_appended = ?, last_error = NULL, updated_at = ?
                    WHERE expert_id = ?
                    """,
                arguments: [appended, time.description, expertID])
        }
    }

    /// The pass under way stopped on `error`; it stays under way, to go on from its page.
    public func failed(expertID: String, error: String, at time: Timestamp) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE reconcile_progress SET last_error = ?, updated_at = ? WHERE expert_id = ?",
                arguments: [String(error.prefix(500)), time.description, expertID])
        }
    }
}

extension ReconcileProgress {
    init(row: Row) {
        func time(_ column: String) -> Timestamp? { (row[column] as String?).flatMap(Timestamp.init(rfc3339:)) }
        self.init(
            expertID: row["expert_id"], userURI: row["user_uri"], windowStart: time("window_start"), pageToken: row["page_token"],
            startedAt: time("started_at"), completedAt: time("completed_at"), lastAppended: row["last_appended"],
            lastError: row["last_error"], updatedAt: time("updated_at") ?? Timestamp(microseconds: 0))
    }
}
