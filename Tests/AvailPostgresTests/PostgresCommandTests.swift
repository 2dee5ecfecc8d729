import AvailStore
import AvailTesting
import Foundation
import PostgresNIO
import Testing

@testable import AvailPostgres

/// The `availd` executable on a `postgres://` database: `verify` checks the log there, `replay`
/// writes it, `export` and `import` move a log between the backends.
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

    /// `availd replay` writes a PostgreSQL log as it writes an SQLite one: the same dedupe, the
    /// same dead letters, read models projected to the same digest; and it makes no file named
    /// after the URL. `backup` says how PostgreSQL is backed up instead.
    @Test func replayOnPostgresAppendsDedupesAndProjectsAsOnSQLite() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let deliveries = TestPaths.fixtures.appendingPathComponent("deliveries").path
        let sqlite = folder.url.appendingPathComponent("replayed.sqlite").path
        #expect(try await AvaildProcess.run(["replay", deliveries, "--database", sqlite]).status == 0)
        let expected = try await figures(sqlite)

        let url = try TestPostgres.server().newDatabase()
        let empty = folder.url.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        func replay(_ path: String) async throws -> AvaildProcess.Completed {
            // Inside an empty folder: a command that took the URL for a file name would make it there.
            let child = try AvaildProcess("availd", ["replay", path, "--database", url], shellPrefix: "cd '\(empty.path)' &&")
            let status = try await child.waitForExit()
            return AvaildProcess.Completed(status: status, stdout: await child.stdoutText(), stderr: await child.stderrText())
        }
        let first = try await replay(deliveries)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "appended 67, duplicates 6, rejected 0\n")
        #expect(try await replay(deliveries).stdout == "appended 0, duplicates 73, rejected 0\n")
        // Received now, so hashed differently; the same events, and read models digest for digest.
        let replayed = try await figures(url)
        #expect(replayed.log.hasPrefix("log ok: 67 events, head "), "\(replayed.log)")
        #expect(expected.digest.hasPrefix("position 67 digest "), "\(expected.digest)")
        #expect(replayed.digest == expected.digest)

        let rejected = try await replay(TestPaths.fixtures.appendingPathComponent("invalid").path)
        #expect(rejected.status != 0)
        #expect(rejected.stdout == "appended 0, duplicates 0, rejected 13\n")
        let letters = try await AvailPostgresDatabase.withDatabase(url: url, logger: Backend.logger) { database in
            try await PostgresDeadLetters(database: database).list(after: 0, limit: 100)
        }
        #expect(letters.count == 13)
        #expect(letters.allSatisfy { $0.code == "invalid_payload" })
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)

        let backup = try await AvaildProcess.run(["backup", "--to", empty.appendingPathComponent("copy").path, "--database", url])
        #expect(backup.status != 0)
        #expect(backup.stderr.contains("a PostgreSQL database is backed up with pg_dump"), "\(backup.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
    }

    /// `availd export --database FROM | availd import --database TO`, through a real pipe.
    func pipe(from: String, to: String) async throws -> AvaildProcess.Completed {
        let export = ([AvaildProcess.binaryDirectory.appendingPathComponent("availd").path, "export", "--database", from])
            .map { "'\($0)'" }.joined(separator: " ")
        let child = try AvaildProcess("availd", ["import", "--database", to], shellPrefix: "set -o pipefail; \(export) |")
        let status = try await child.waitForExit()
        return AvaildProcess.Completed(status: status, stdout: await child.stdoutText(), stderr: await child.stderrText())
    }

    /// `availd verify`'s `log ok: N events, head H` line, and the digest line of `availd digest`.
    func figures(_ database: String) async throws -> (log: String, digest: String) {
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        let digest = try await AvaildProcess.run(["digest", "--database", database])
        return (verify.stdout.split(separator: "\n").first.map(String.init) ?? "", digest.stdout.trimmingCharacters(in: .newlines))
    }

    @Test func aLogMovesFromSQLiteToPostgresAndBackHashForHash() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let first = folder.url.appendingPathComponent("first.sqlite").path
        let back = folder.url.appendingPathComponent("back.sqlite").path
        let replay = try await AvaildProcess.run([
            "replay", TestPaths.fixtures.appendingPathComponent("deliveries").path, TestPaths.calendlySamples.path, "--database", first,
        ])
        #expect(replay.status == 0, "\(replay.stderr)")
        let source = try await figures(first)
        #expect(source.log.hasPrefix("log ok: 78 events, head "), "\(source.log)")

        let url = try TestPostgres.server().newDatabase()
        let there = try await pipe(from: first, to: url)
        #expect(there.status == 0, "\(there.stderr)")
        #expect(there.stdout == "imported 78, already there 0\n\(source.log)\n", "PostgreSQL has no read models to bring up to date")
        #expect(try await figures(url).log == source.log)

        // Its read models, rebuilt there, are the SQLite ones, digest for digest.
        let rebuilt = try await AvaildProcess.run(["rebuild", "--database", url])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(rebuilt.stdout == source.digest + "\n")
        #expect(try await figures(url).digest == source.digest)
        let verified = try await AvaildProcess.run(["verify", "--database", url])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("projections ok: \(source.digest)"), "\(verified.stdout)")

        let returned = try await pipe(from: url, to: back)
        #expect(returned.status == 0, "\(returned.stderr)")
        #expect(returned.stdout == "imported 78, already there 0\n\(source.log)\n\(source.digest)\n")
        #expect(try await figures(back) == source)
        var exports: [String] = []
        for database in [first, url, back] { exports.append(try await AvaildProcess.run(["export", "--database", database]).stdout) }
        #expect(exports[0].split(separator: "\n").count == 78)
        #expect(exports[1] == exports[0] && exports[2] == exports[0], "every field of every event, byte for byte")

        // A read model changed behind availd's back: verify says so; a rebuild mends it.
        try await AvailPostgresDatabase.withDatabase(url: url, logger: Backend.logger) { database in
            try await database.client.query(
                "UPDATE appointments SET appointment = convert_to('{}', 'UTF8') WHERE id = (SELECT min(id) FROM appointments)",
                logger: Backend.logger)
        }
        let differs = try await AvaildProcess.run(["verify", "--database", url])
        #expect(differs.status == 1)
        #expect(differs.stdout.contains("projections DIFFER"), "\(differs.stdout)")
        #expect(try await AvaildProcess.run(["rebuild", "--database", url]).stdout == source.digest + "\n")
        #expect(try await AvaildProcess.run(["verify", "--database", url]).status == 0)
    }

    @Test func anImportRefusesWhatIsNotTheSameLogAndResumesWhatWasCutShort() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let source = folder.url.appendingPathComponent("source.sqlite").path
        _ = try await AvaildProcess.run(["replay", TestPaths.fixtures.appendingPathComponent("deliveries").path, "--database", source])
        let lines = try await AvaildProcess.run(["export", "--database", source]).stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 67)
        func file(_ name: String, _ lines: [String]) throws -> String {
            let path = folder.url.appendingPathComponent(name).path
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let whole = try file("whole.jsonl", lines)
        func events(_ url: String) async throws -> String {
            try await AvaildProcess.run(["verify", "--database", url]).stdout
        }

        // One body changed in transit: refused at its line, the lines before it kept (verified).
        var changed = lines
        changed[29] = changed[29].replacingOccurrences(of: "example.com", with: "example.org")
        #expect(changed[29] != lines[29])
        let url = try TestPostgres.server().newDatabase()
        let tampered = try await AvaildProcess.run(["import", try file("changed.jsonl", changed), "--database", url])
        #expect(tampered.status != 0)
        #expect(tampered.stderr.contains("line 30: position 30: hash does not match"), "\(tampered.stderr)")
        #expect(try await events(url).hasPrefix("log ok: 29 events, "))

        // The rest comes from the whole file: what is there is checked, not written again.
        let resumed = try await AvaildProcess.run(["import", whole, "--database", url])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.hasPrefix("imported 38, already there 29\n"), "\(resumed.stdout)")
        #expect(try await events(url).split(separator: "\n").first == (try await events(source)).split(separator: "\n").first)

        // Another log, or a shorter one, is refused and nothing is written.
        let samples = folder.url.appendingPathComponent("samples.sqlite").path
        _ = try await AvaildProcess.run(["replay", TestPaths.calendlySamples.path, "--database", samples])
        let otherLines = try await AvaildProcess.run(["export", "--database", samples]).stdout.split(separator: "\n").map(String.init)
        let other = try TestPostgres.server().newDatabase()
        _ = try await AvaildProcess.run(["import", try file("samples.jsonl", Array(otherLines[0..<10])), "--database", other])
        let differs = try await AvaildProcess.run(["import", whole, "--database", other])
        #expect(differs.status != 0)
        #expect(differs.stderr.contains("the database's log differs from this one at position 10"), "\(differs.stderr)")
        let shorter = try await AvaildProcess.run(["import", try file("short.jsonl", Array(otherLines[0..<5])), "--database", other])
        #expect(shorter.status != 0)
        #expect(shorter.stderr.contains("the database's log (10 events) is longer than this one (5 events)"), "\(shorter.stderr)")
        let garbage = try await AvaildProcess.run(["import", try file("garbage.jsonl", Array(otherLines[0..<10]) + ["{\"position\": 11}"]), "--database", other])
        #expect(garbage.status != 0)
        #expect(garbage.stderr.contains("line 11 is not a line of availd export"), "\(garbage.stderr)")
        #expect(try await events(other).hasPrefix("log ok: 10 events, "))
    }
}
