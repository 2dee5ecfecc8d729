import AvailCore
import AvailStore
import Foundation
import PostgresNIO

/// Reconciliation's progress in PostgreSQL (`ReconcileProgressStore`).
public struct PostgresReconcileProgress: ReconcileProgressStore {
    let database: AvailPostgresDatabase

    public init(database: AvailPostgresDatabase) {
        self.database = database
    }

    static let columns = "expert_id, user_uri, window_start, page_token, started_at, completed_at, last_appended, last_error, updated_at"

    public func load(expertID: String) async throws -> ReconcileProgress? {
        try await database.query("SELECT \(unescaped: Self.columns) FROM reconcile_progress WHERE expert_id = \(expertID)")
            .first.map(Self.progress)
    }

    public func all() async throws -> [ReconcileProgress] {
        try await database.query("SELECT \(unescaped: Self.columns) FROM reconcile_progress ORDER BY expert_id")
            .map(Self.progress)
    }

    public func begin(expertID: String, userURI: String, windowStart: Timestamp, at time: Timestamp) async throws {
        try await database.durableQuery("""
            INSERT INTO reconcile_progress (expert_id, user_uri, window_start, page_token, started_at, updated_at)
            VALUES (\(expertID), \(userURI), \(windowStart.description), NULL, \(time.description), \(time.description))
            ON CONFLICT (expert_id) DO UPDATE SET user_uri = excluded.user_uri, window_start = excluded.window_start,
                page_token = NULL, started_at = excluded.started_at, updated_at = excluded.updated_at
            """)
    }

    public func advance(expertID: String, pageToken: String, at time: Timestamp) async throws {
        try await database.durableQuery("""
            UPDATE reconcile_progress SET page_token = \(pageToken), updated_at = \(time.description) WHERE expert_id = \(expertID)
            """)
    }

    public func complete(expertID: String, appended: Int, at time: Timestamp) async throws {
        try await database.durableQuery("""
            UPDATE reconcile_progress SET completed_at = started_at, window_start = NULL, page_token = NULL,
                started_at = NULL, last_appended = \(Int64(appended)), last_error = NULL, updated_at = \(time.description)
            WHERE expert_id = \(expertID)
            """)
    }

    public func failed(expertID: String, error: String, at time: Timestamp) async throws {
        try await database.durableQuery("""
            UPDATE reconcile_progress SET last_error = \(String(error.prefix(500))), updated_at = \(time.description)
            WHERE expert_id = \(expertID)
            """)
    }

    private static func progress(_ row: PostgresRow) throws -> ReconcileProgress {
        let (expertID, userURI, windowStart, pageToken, startedAt, completedAt, lastAppended, lastError, updatedAt) =
            try row.decode((String, String, String?, String?, String?, String?, Int64, String?, String).self)
        func time(_ text: String?) -> Timestamp? { text.flatMap(Timestamp.init(rfc3339:)) }
        return ReconcileProgress(
            expertID: expertID, userURI: userURI, windowStart: time(windowStart), pageToken: pageToken, startedAt: time(startedAt),
            completedAt: time(completedAt), lastAppended: Int(lastAppended), lastError: lastError,
            updatedAt: time(updatedAt) ?? Timestamp(microseconds: 0))
    }
}
