import AvailCore
import AvailStore
import AvailTesting
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import AvailPostgres

/// The group-committing `LogWriter` (what the webhook path appends through) on either backend:
/// concurrent appends share transactions, copies are stored once, and a batch that fails to
/// commit fails every one of its callers and stores nothing.
@Suite struct LogWriterBackendTests {
    @Test(arguments: Backend.allCases)
    func concurrentAppendsShareCommitsAndCopiesAreStoredOnce(backend: Backend) async throws {
        try await backend.withLog { log in
            let batches = Mutex<[Int]>([])
            let writer = LogWriter(log: log, logger: Backend.logger) { _, size in batches.withLock { $0.append(size) } }
            let count = 300
            let outcomes = try await withRunning(writer) {
                try await withThrowingTaskGroup(of: AppendOutcome.self) { group in
                    for index in 0..<count {
                        group.addTask { try await writer.append(event("e\(index)", stream: "expert-\(index % 7)")) }
                    }
                    // Twenty copies of one more, at once with the rest.
                    for _ in 0..<20 { group.addTask { try await writer.append(event("copy")) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(Set(outcomes.filter { !$0.isDuplicate }.map(\.position)) == Set(1...Int64(count + 1)))
            #expect(outcomes.filter(\.isDuplicate).count == 19)
            let sizes = batches.withLock { $0 }
            #expect(sizes.reduce(0, +) == count + 20, "every append went through a batch, copies too")
            // Group commit: far fewer transactions (and WAL flushes) than appends.
            #expect(sizes.count < count / 2, "batch sizes: \(sizes)")
            #expect(try await log.verify(maximumProblems: 20).isIntact)
        }
    }

    @Test func aBatchPostgreSQLRefusesFailsItsCallersAndStoresNothing() async throws {
        let url = try TestPostgres.server().newDatabase()
        try await AvailPostgresDatabase.withDatabase(url: url, logger: Backend.logger) { database in
            // A constraint the server checks at insert: any body that says "poison" is refused.
            try await database.client.query(
                "ALTER TABLE events ADD CONSTRAINT no_poison CHECK (position('poison' in convert_from(body, 'UTF8')) = 0)",
                logger: Backend.logger)
            let log = PostgresEventLog(database: database)
            _ = try await log.append([event("before")])
            let writer = LogWriter(log: log, logger: Backend.logger)
            let results = try await withRunning(writer) {
                await withTaskGroup(of: Bool.self) { group in
                    for index in 0..<50 {
                        group.addTask {
                            (try? await writer.append(index == 25 ? poisoned() : event("w\(index)"))) != nil
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
            }
            let stored = try await log.events(after: 0, limit: 100)
            // Whatever was acknowledged is stored, and nothing refused is.
            #expect(results.filter { $0 }.count == stored.count - 1)
            #expect(results.filter { !$0 }.count >= 1, "the poisoned append and its batch fail")
            #expect(!stored.contains { String(decoding: $0.event.body, as: UTF8.self).contains("poison") })
            #expect(try await log.verify(maximumProblems: 20).isIntact)
        }
    }
}

private func poisoned() -> NewEvent {
    var poisoned = event("poisoned")
    poisoned.body = Data(#"{"poison":true}"#.utf8)
    return poisoned
}
