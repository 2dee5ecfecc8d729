import AvailCore
import AvailStore
import AvailTesting
import Foundation
import GRDB
import Logging
import Testing

/// The log's WAL is checkpointed beside the appends, not inside one of their commits.
@Suite struct LogCheckpointerTests {
    /// The size of the database file itself: pages reach it only by a checkpoint (asking SQLite
    /// about the WAL would checkpoint it).
    static func fileSize(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }

    @Test func theWALIsCheckpointedOffTheWritersPath() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("log.sqlite")
        let database = try LogDatabase.open(path: path)
        let checkpointer = LogCheckpointer(database: database, interval: .milliseconds(50), logger: Logger(label: "test"))
        let running = Task { try await checkpointer.run() }
        // Its automatic checkpoint off while the checkpointer runs.
        var automatic = -1
        for _ in 0..<100 where automatic != 0 {
            try await Task.sleep(for: .milliseconds(20))
            automatic = try await database.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")! }
        }
        #expect(automatic == 0)
        // Far fewer pages than SQLite's own threshold (1,000): only the checkpointer copies them.
        try await Task.sleep(for: .milliseconds(200))
        let before = try Self.fileSize(path)
        _ = try await database.log.append(try (0..<40).map { try delivery($0, seed: "checkpoint") })
        var after = before
        for _ in 0..<100 where after < before + 40 * 2048 {
            try await Task.sleep(for: .milliseconds(50))
            after = try Self.fileSize(path)
        }
        #expect(after >= before + 40 * 2048, "the file grew from \(before) to \(after) bytes")
        running.cancel()
        _ = await running.result
        let restored = try await database.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")! }
        #expect(restored == 1000)
    }
}
