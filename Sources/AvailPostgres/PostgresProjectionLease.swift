import AvailStore
import Logging
import PostgresNIO

/// The projection lease on PostgreSQL: a session-level advisory lock held on a connection of
/// its own. It lasts as long as that session: when the holder dies (even `kill -9`), its
/// socket closes, PostgreSQL ends the session and frees the lock, and the next daemon to ask
/// takes it.
public actor PostgresProjectionLease: ProjectionLease {
    /// `pg_try_advisory_lock`'s key: "availd" and 3.
    static let key: Int64 = 0x6176_6169_6C64_0003

    private let database: AvailPostgresDatabase
    private var connection: PostgresConnection?
    private var held = false

    public init(database: AvailPostgresDatabase) {
        self.database = database
    }

    public func holds() async -> Bool {
        let logger = database.logger
        do {
            let connection: PostgresConnection
            if let open = self.connection {
                connection = open
            } else {
                connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 0, logger: logger)
                self.connection = connection
            }
            if held {
                // The same session, so the same lock: it answers only while the session lives.
                try await connection.query("SELECT 1", logger: logger)
            } else {
                held = try await connection.query("SELECT pg_try_advisory_lock(\(Self.key))", logger: logger)
                    .collect().first?.decode(Bool.self) ?? false
            }
            return held
        } catch {
            // The session is gone or going, and the lock with it.
            logger.warning("projection lease connection failed", metadata: ["error": "\(error)"])
            await release()
            return false
        }
    }

    public func release() async {
        held = false
        try? await connection?.close()
        connection = nil
    }
}
