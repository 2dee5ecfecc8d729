import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import GRDB
import Testing

@testable import AvailStore

/// The read models' generations: made apart, pointed at in one durable write, deleted once
/// nothing points at them and no process holds them, made afresh when of another schema.
@Suite struct ReadModelStoreTests {
    static func files(_ path: String) -> [Int64] {
        ReadModelGeneration.files(logPath: path).map(\.number).sorted()
    }

    static func fillLog(_ database: AvailDatabase, invitees: Int = 30, seed: UInt64 = 1) async throws {
        var events = Corpus.experts.flatMap { Corpus.setUp($0) }.enumerated().map { offset, expert in
            var event = Corpus.event(expert, position: Int64(offset + 1)).event
            event.dedupeKey = DedupeKey(rawValue: "test-expert-\(seed)-\(offset)")
            return event
        }
        events += try GeneratedCorpus.histories(seed: seed, invitees: invitees).flatMap { $0 }.map {
            NewEvent(delivery: try Delivery(body: $0), signature: nil, receivedAt: .now())
        }
        _ = try await database.log.append(events)
    }

    @Test func aNewDatabaseHasAnEmptyFirstGenerationAndTheLogFileHasNoReadModels() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("a.sqlite")
        let database = try LogDatabase.open(path: path)
        #expect(Self.files(path) == [1])
        #expect(database.readModelStore.generation.number == 1)
        #expect(try await database.readModels.checkpoint() == 0)
        let tables = try await database.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(!tables.contains("appointments") && !tables.contains("projection_checkpoint"))
        // Opened again (another process would do the same), it is the same generation.
        #expect(try LogDatabase.open(path: path).readModelStore.generation.number == 1)
        #expect(Self.files(path) == [1])
    }

    @Test func aRebuildWritesANewGenerationAndTheOldOneGoesOnceNoOneHoldsIt() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("a.sqlite")
        let database = try LogDatabase.open(path: path)
        try await Self.fillLog(database)
        let caughtUp = try await database.readModels.catchUp(with: database.log)
        let digest = try await database.readModels.digest()
        // Another process holding generation 1 (its own open files and locks).
        var other: AvailDatabase? = try LogDatabase.open(path: path)
        #expect(other?.readModelStore.generation.number == 1)

        try await database.readModels.replace(with: try await database.log.fold())
        #expect(database.readModelStore.generation.number == 2)
        #expect(try await database.readModels.digest() == digest)
        #expect(try await database.readModels.checkpoint() == caughtUp)
        #expect(Self.files(path) == [1, 2], "generation 1 is still held by the other")
        // The other moves over as the daemon's projector does, and lets generation 1 go.
        let next = try #require(try await other!.readModels.newerGeneration())
        #expect(next.number == 2)
        other!.readModels.moveReaders(to: next)
        // A read still finishing on generation 1 (a busy machine) lets it go a moment later;
        // the projector asks again every second, as this does more often.
        let deadline = ContinuousClock.now + .seconds(10)
        while Self.files(path) != [2], ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            other!.readModels.removeUnusedGenerations()
        }
        #expect(Self.files(path) == [2])
        other = nil
        #expect(Self.files(path) == [2])
    }

    @Test func aRebuildWhoseNumberAnotherTookMeanwhileTakesTheNext() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("a.sqlite")
        let database = try LogDatabase.open(path: path)
        try await Self.fillLog(database)
        let fold = try await database.log.fold()
        let fill: (Database) throws -> Void = { db in
            try db.execute(sql: ReadModelSchema.tables)
            try ReadModels.write(fold, db)
            try db.execute(sql: ReadModelSchema.indexes)
            try db.execute(sql: "PRAGMA user_version = \(ReadModelSchema.version)")
        }
        // Two rebuilds in two processes both chose 2 (each listed the files before the other
        // made its own); the other made its file first, and is still writing it.
        let other = try ReadModelGeneration.create(numberedFrom: 2, logPath: path, fill: fill)
        let mine = try ReadModelGeneration.create(numberedFrom: 2, logPath: path, fill: fill)
        #expect(other.number == 2)
        #expect(mine.number == 3)
        #expect(Self.files(path) == [1, 2, 3])
        #expect(try await other.checkpoint() == fold.position)
        #expect(try await mine.checkpoint() == fold.position)
        try await database.readModelStore.publish(mine)
        try await database.readModelStore.publish(other)
        #expect(try ReadModelStore.pointer(database.writer) == 3, "the pointer only moves forward")
        #expect(database.readModelStore.generation.number == 3)
        #expect(try await database.readModels.digest().digest == fold.digest)
    }

    @Test func concurrentRebuildsOfOneDatabaseEachGetANumberOfTheirOwn() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("a.sqlite")
        let first = try LogDatabase.open(path: path)
        try await Self.fillLog(first, invitees: 10)
        let fold = try await first.log.fold()
        // As many `availd rebuild`s at once, each with its own connections and locks.
        let rebuilds = 6
        let databases = try [first] + (1..<rebuilds).map { _ in try LogDatabase.open(path: path) }
        let numbers = try await withThrowingTaskGroup(of: Int64.self) { group in
            for database in databases {
                group.addTask {
                    try await database.readModels.replace(with: fold)
                    return database.readModelStore.generation.number
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(numbers).count == rebuilds, "\(numbers.sorted())")
        #expect(try ReadModelStore.pointer(first.writer) == numbers.max())
        for database in databases {
            let newest = try await database.readModels.newerGeneration()
            if let newest { database.readModels.moveReaders(to: newest) }
            #expect(database.readModelStore.generation.number == numbers.max())
            #expect(try await database.readModels.digest().digest == fold.digest)
        }
        #expect(Self.files(path) == [numbers.max()!])
    }

    @Test func whatAKilledRebuildLeftIsDeletedAndNeverRead() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("a.sqlite")
        let database = try LogDatabase.open(path: path)
        try await Self.fillLog(database)
        try await database.readModels.catchUp(with: database.log)
        let digest = try await database.readModels.digest()
        // Half a generation 5, as a rebuild killed mid-write leaves it: no lock, no pointer.
        try Data("SQLite format 3\0 and then nothing".utf8).write(to: URL(fileURLWithPath: ReadModelGeneration.path(5, logPath: path)))
        #expect(Self.files(path) == [1, 5])
        let reopened = try LogDatabase.open(path: path)
        #expect(Self.files(path) == [1])
        #expect(reopened.readModelStore.generation.number == 1)
        #expect(try await reopened.readModels.digest() == digest)
        #expect(try await reopened.readModels.newerGeneration() == nil)
    }

    @Test func readModelsOfAnotherSchemaAreMadeAfreshAndFoldedAgain() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("a.sqlite")
        let database = try LogDatabase.open(path: path)
        try await Self.fillLog(database)
        let position = try await database.readModels.catchUp(with: database.log)
        let digest = try await database.readModels.digest()
        try await database.readModelStore.generation.database.write { db in
            try db.execute(sql: "PRAGMA user_version = \(ReadModelSchema.version + 1)")
        }
        let reopened = try LogDatabase.open(path: path)
        #expect(reopened.readModelStore.generation.number == 2)
        #expect(try await reopened.readModels.checkpoint() == 0)
        #expect(try await reopened.readModels.catchUp(with: reopened.log) == position)
        #expect(try await reopened.readModels.digest() == digest)
    }

    @Test func readersAheadOfARebuildStayUntilItIsBroughtUpToDate() async throws {
        let database = try LogDatabase.open(path: LogDatabase.inMemory)
        try await Self.fillLog(database, seed: 1)
        let fold = try await database.log.fold()
        try await Self.fillLog(database, seed: 2)
        let ahead = try await database.readModels.catchUp(with: database.log)
        #expect(ahead > fold.position)
        let projector = database.readModels.pinned(to: database.readModelStore.generation)

        // Published, but behind what readers already see: readers stay where they are.
        try await database.readModels.replace(with: fold)
        #expect(database.readModelStore.generation.number == 1)
        #expect(try await database.readModels.checkpoint() == ahead)
        let next = try #require(try await projector.newerGeneration())
        #expect(next.number == 2)
        #expect(try await projector.pinned(to: next).catchUp(with: database.log, through: ahead) == ahead)
        projector.moveReaders(to: next)
        #expect(database.readModelStore.generation.number == 2)
        #expect(try await database.readModels.checkpoint() == ahead)
        #expect(try await database.readModels.compareWithRebuild().stored == (try await database.log.fold()).digest)
    }

    @Test func thePointerNeverGoesBack() async throws {
        let database = try LogDatabase.open(path: LogDatabase.inMemory)
        try await database.durableWrite { db in try ReadModelStore.setPointer(7, db) }
        try await database.durableWrite { db in try ReadModelStore.setPointer(3, db) }
        #expect(try ReadModelStore.pointer(database.writer) == 7)
    }
}
