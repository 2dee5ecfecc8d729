import AvailStore
import AvailTesting
import Foundation
import PostgresNIO
import Testing

@testable import AvailPostgres

/// The `availd` executable on a `postgres://` database: `verify` checks the log there; the
/// commands that do not run on PostgreSQL yet refuse, and make no SQLite file named after it.
@Suite struct PostgresCommandTests {
    @Test func availdVerifyChecksAPostgresLogAndFindsItBroken() async throws {
        let url = try TestPostgres.server().newDatabase()
        let head = try await AvailPostgresDatabase.withDatabase(url: url, logger: Backend.logger) { database in
            let log = PostgresEventLog(database: database)
            _ = try await log.append((0..<50).map { event("v\($0)", stream: "expert-\($0 % 5)") })
            return try await log.verify().headHash
        }
        let intact = try await AvaildProcess.run(["verify", "--database", url])
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(intact.stdout.contains("log ok: 50 events, head \(head)"), "\(intact.stdout)")

        try await AvailPostgresDatabase.withDatabase(url: url, logger: Backend.logger) { database in
            try await database.client.query("ALTER TABLE events DISABLE TRIGGER events_no_change")
            try await database.client.query("UPDATE events SET body = '\\x7b7d' WHERE position = 7")
        }
        let broken = try await AvaildProcess.run(["verify", "--database", url])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("log BROKEN: 50 events"), "\(broken.stdout)")
        #expect(broken.stderr.contains("position 7: hash does not match"), "\(broken.stderr)")
    }

    @Test func commandsNotYetOnPostgresRefuseAndCreateNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let url = try TestPostgres.server().newDatabase()
        for command in [["serve", "--port", "0"], ["rebuild"], ["export"]] {
            // Run inside the empty folder: a command that took the URL for a file name would make it there.
            let child = try AvaildProcess("availd", command + ["--database", url], shellPrefix: "cd '\(folder.url.path)' &&")
            let status = try await child.waitForExit()
            let stderr = await child.stderrText()
            #expect(status != 0, "\(command)")
            #expect(stderr.contains("does not run on PostgreSQL yet"), "\(command): \(stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty)
    }
}
