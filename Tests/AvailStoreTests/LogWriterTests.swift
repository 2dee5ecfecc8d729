import AvailCore
@testable import AvailStore
import AvailTesting
import Foundation
import GRDB
import Logging
import Synchronization
import Testing

@Suite struct LogWriterTests {
    @Test func concurrentAppendsShareCommits() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let log = EventLog(database: try LogDatabase.open(path: folder.path("log.sqlite")))
        let batches = Mutex<[Int]>([])
        let writer = LogWriter(log: log, logger: Logger(label: "test")) { _, size in
            batches.withLock { $0.append(size) }
        }
        let count = 400
        let positions = try await withRunning(writer) {
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<count {
                    group.addTask { try await writer.append(try delivery(index)).position }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(Set(positions) == Set(1...Int64(count)))
        let sizes = batches.withLock { $0 }
        #expect(sizes.reduce(0, +) == count)
        // Group commit: far fewer transactions (fsyncs) than appends.
        #expect(sizes.count < count / 2, "batch sizes: \(sizes)")
        #expect(try await log.verify().isIntact)
    }

    @Test func twentyConcurrentCopiesAreStoredOnce() async throws {
        let log = EventLog(database: try LogDatabase.open(path: LogDatabase.inMemory))
        let writer = LogWriter(log: log, logger: Logger(label: "test"))
        let copy = try delivery(1)
        let outcomes = try await withRunning(writer) {
            try await withThrowingTaskGroup(of: AppendOutcome.self) { group in
                for _ in 0..<20 { group.addTask { try await writer.append(copy) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(outcomes.filter { !$0.isDuplicate } == [.appended(position: 1)])
        #expect(outcomes.filter(\.isDuplicate).count == 19)
        #expect(Set(outcomes.map(\.position)) == [1])
        #expect(try await log.lastPosition() == 1)
    }

    /// `max_page_count` makes SQLite answer "database or disk is full", as a full disk does.
    @Test func aFailedCommitFailsItsWaitersAndStoresNothing() async throws {
        let database = try LogDatabase.open(path: LogDatabase.inMemory)
        let log = EventLog(database: database)
        let writer = LogWriter(log: log, logger: Logger(label: "test"))
        try await withRunning(writer) {
            _ = try await writer.append(try delivery(0))
            try await database.writeWithoutTransaction { db in
                // No free pages left to fill (the migrations freed those of the read-model
                // tables that moved to their own file): the next page is one too many.
                try db.execute(sql: "VACUUM")
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages)")
            }
            await #expect(throws: LogWriterError.self) {
                try await writer.append(try delivery(1, seed: String(repeating: "x", count: 5000)))
            }
            #expect(writer.lastFailure != nil)
            #expect(try await log.lastPosition() == 1)
            try await database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA max_page_count = 1000000") }
            #expect(try await writer.append(try delivery(1)) == .appended(position: 2))
            #expect(writer.lastFailure == nil)
        }
        #expect(try await log.verify().isIntact)
    }

    @Test func afterShutdownAppendsAreRefused() async throws {
        let log = EventLog(database: try LogDatabase.open(path: LogDatabase.inMemory))
        let writer = LogWriter(log: log, logger: Logger(label: "test"))
        try await withRunning(writer) { _ = try await writer.append(try delivery(0)) }
        #expect(!writer.isAccepting)
        await #expect(throws: LogWriterError.self) { try await writer.append(try delivery(1)) }
        #expect(try await log.lastPosition() == 1)
    }
}
