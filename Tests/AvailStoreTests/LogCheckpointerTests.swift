import AvailCore
@testable import AvailStore
import AvailTesting
import Foundation
import GRDB
import Logging
import Synchronization
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

    /// A checkpoint beside a writer that never pauses never copies the frames appended during
    /// it, so SQLite never starts the WAL over, and the file grew by every commit (to 880 MB
    /// in 12 s under wrk). The last frames are copied on the writer's connection between two
    /// batches, and the WAL starts over.
    @Test func theWALStartsOverUnderSustainedAppends() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("log.sqlite")
        let database = try LogDatabase.open(path: path)
        let logger = Logger(label: "test")
        let checkpointer = LogCheckpointer(database: database, interval: .milliseconds(20), restartFrames: 64, logger: logger)
        let writer = LogWriter(log: database.log, logger: logger)
        let services = [Task { try await checkpointer.run() }, Task { try await writer.run() }]
        defer { for service in services { service.cancel() } }
        let (appenders, each) = (8, 500)
        let finished = Atomic<Bool>(false)
        let appending = Task {
            defer { finished.store(true, ordering: .releasing) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for appender in 0..<appenders {
                    group.addTask {
                        for index in 0..<each { _ = try await writer.append(try delivery(appender * each + index, seed: "sustained")) }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Reading beside the appends, as the projector and the HTTP readers do.
        var largest = 0
        while !finished.load(ordering: .acquiring) {
            _ = try await database.log.events(after: max(0, try await database.log.lastPosition() - 50), limit: 50)
            largest = max(largest, (try? Self.fileSize(path + "-wal")) ?? 0)
            try await Task.sleep(for: .milliseconds(5))
        }
        try await appending.value
        #expect(try await database.log.lastPosition() == Int64(appenders * each))
        // 4,000 deliveries write about 50 MB of frames; a WAL that starts over stays a fraction of that.
        #expect(largest < 12 << 20, "the WAL reached \(largest) bytes")
        let verification = try await database.log.verify()
        #expect(verification.isIntact && verification.eventCount == Int64(appenders * each), "\(verification.problems)")
    }
}
