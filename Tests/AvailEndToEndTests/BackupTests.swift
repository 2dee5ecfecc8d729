import AvailTesting
import Foundation
import Testing

/// `availd backup`: a consistent copy beside a daemon under load, one self-contained file that
/// verifies, and refusals that touch nothing.
@Suite(.serialized) struct BackupTests {
    func export(_ database: String) async throws -> [Substring] {
        let result = try await AvaildProcess.run(["export", "--database", database])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n")
    }

    @Test func aBackupBesideADaemonUnderLoadIsAVerifiedPrefixOfTheLog() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        defer { daemon.signal(SIGKILL) }
        let load = try AvaildProcess("availd-sim", [
            "load", "--url", "http://127.0.0.1:\(port)", "--signing-key", signingKey, "--count", "3000",
            "--concurrency", "16", "--warmup", "0",
        ])
        // Wait until deliveries are coming in, then copy twice while they go on.
        _ = try await adminJSON("/events?min_position=200", port: port)
        var copies: [String] = []
        for index in 0..<2 {
            let copy = folder.path("backups/copy-\(index).sqlite")
            try FileManager.default.createDirectory(atPath: folder.path("backups"), withIntermediateDirectories: true)
            let backup = try await AvaildProcess.run(["backup", "--database", database, "--to", copy])
            #expect(backup.status == 0, "\(backup.stderr)")
            #expect(backup.stdout.contains("backup \(copy): "), "\(backup.stdout)")
            #expect(backup.stdout.contains(", verified"))
            copies.append(copy)
        }
        let loadStatus = try await load.waitForExit(timeout: .seconds(300))
        let loadOutput = await load.stdoutText()
        #expect(loadStatus == 0, "\(loadOutput)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)

        // One file each, the owner's only: no journal, WAL or partial file beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path("backups")).sorted()
        #expect(left == ["copy-0.sqlite", "copy-1.sqlite"])
        for copy in copies {
            #expect(try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int == 0o600)
        }
        let original = try await export(database)
        #expect(original.count == 3000)
        var previous = 0
        for copy in copies {
            let lines = try await export(copy)
            // A snapshot: what was acknowledged up to some moment, in order, nothing else.
            #expect(lines.count >= max(previous, 200))
            #expect(lines.count <= original.count)
            #expect(Array(original.prefix(lines.count)) == lines)
            previous = lines.count
            let verify = try await AvaildProcess.run(["verify", "--database", copy])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("log ok: \(lines.count) events"), "\(verify.stdout)")
        }
    }

    @Test func aBackupRefusesWhatItCannotDoAndTouchesNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        let replay = try await AvaildProcess.run(["replay", TestPaths.fixtures.appendingPathComponent("deliveries").path, "--database", database])
        #expect(replay.status == 0, "\(replay.stderr)")
        let existing = folder.path("existing.sqlite")
        FileManager.default.createFile(atPath: existing, contents: Data("keep me".utf8))

        let over = try await AvaildProcess.run(["backup", "--database", database, "--to", existing])
        #expect(over.status != 0)
        #expect(over.stderr.contains("exists"), "\(over.stderr)")
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep me")

        let memory = try await AvaildProcess.run(["backup", "--database", ":memory:", "--to", folder.path("m.sqlite")])
        #expect(memory.status != 0)
        #expect(memory.stderr.contains("nothing to back up"), "\(memory.stderr)")

        let postgres = try await AvaildProcess.run(["backup", "--database", "postgres://availd@127.0.0.1:1/x", "--to", folder.path("p.sqlite")])
        #expect(postgres.status != 0)
        #expect(postgres.stderr.contains("pg_dump"), "\(postgres.stderr)")

        let missing = try await AvaildProcess.run(["backup", "--database", folder.path("none.sqlite"), "--to", folder.path("n.sqlite")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no database"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("none.sqlite")))

        let made = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { !$0.hasPrefix("a.sqlite") }.sorted()
        #expect(made == ["existing.sqlite"])
    }
}
