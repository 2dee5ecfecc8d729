import AvailCore
import AvailStore
import AvailTesting
import AvailWorkload
import Foundation
import GRDB
import Testing

/// `availd rebuild`, `digest` and `verify` with the real executable.
@Suite struct ProjectionCommandsTests {
    let deliveries = TestPaths.fixtures.appendingPathComponent("deliveries").path

    /// The `position P digest D` line of a command, checked for shape.
    func positionAndDigest(_ arguments: [String]) async throws -> String {
        let result = try await AvaildProcess.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.wholeMatch(of: /position \d+ digest [0-9a-f]{64}\n/) != nil, "\(result.stdout)")
        return result.stdout
    }

    /// On a terminal, `verify`, `rebuild` and `replay` say how far they are every few seconds
    /// (here every chunk: `AVAILD_PROGRESS_INTERVAL=0`) with the total, the rate and the time
    /// left; into a pipe, nothing but their result.
    @Test func longCommandsShowProgressOnATerminalOnly() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        let generated = try await AvaildProcess.run(executable: "availd-sim", ["generate", "--database", database, "--deliveries", "9000"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let every = ["AVAILD_PROGRESS_INTERVAL": "0"]
        func onTerminal(_ arguments: [String]) async throws -> (status: Int32, text: String) {
            try await runOnTerminal(arguments, environment: every)
        }

        let verify = try await onTerminal(["verify", "--database", database, "--nice", "0"])
        #expect(verify.status == 0, "\(verify.text)")
        let walked = verify.text.matches(of: /verify: the log: (\d+) of (\d+) events \((\d+)%\), \d+\/s, about \d+ s left\n/)
        #expect(walked.count >= 2, "\(verify.text)")
        #expect(walked.last.map { $0.output.1 == $0.output.2 && $0.output.3 == "100" } == true, "\(verify.text)")
        #expect(verify.text.contains("log ok: "))

        let rebuild = try await onTerminal(["rebuild", "--database", database, "--nice", "0"])
        #expect(rebuild.status == 0, "\(rebuild.text)")
        #expect(rebuild.text.matches(of: /rebuild: folding: \d+ of \d+ events \(\d+%\)/).count >= 2, "\(rebuild.text)")
        #expect(rebuild.text.contains("rebuild: folding: done in "), "\(rebuild.text)")

        let replay = try await onTerminal(["replay", deliveries, "--database", folder.path("b.sqlite")])
        #expect(replay.text.contains(/replay: \d+ of 73 bodies/), "\(replay.text)")

        let exported = try await AvaildProcess.run(["export", "--database", database])
        try Data(exported.stdout.utf8).write(to: URL(fileURLWithPath: folder.path("log.jsonl")))
        let imported = try await onTerminal(["import", folder.path("log.jsonl"), "--database", folder.path("c.sqlite")])
        #expect(imported.status == 0, "\(imported.text)")
        #expect(imported.text.contains(/import: \d+ of \d+ bytes \(\d+%\), \d+\/s, about \d+ s left, \d+ events imported/), "\(imported.text)")

        // Into pipes: the result alone.
        let piped = try await AvaildProcess.run(["verify", "--database", database, "--nice", "0"], environment: every)
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("verify: the log:") && !piped.stdout.contains("verify: the log:"), "\(piped.stderr)")
        #expect(piped.stdout.hasPrefix("log ok: 9"))
    }

    @Test func digestEqualsRebuildAfterAReplay() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        _ = try await AvaildProcess.run(["replay", deliveries, TestPaths.calendlySamples.path, "--database", database])
        let digest = try await positionAndDigest(["digest", "--database", database])
        let rebuild = try await positionAndDigest(["rebuild", "--database", database])
        #expect(digest == rebuild)
        #expect(digest.hasPrefix("position 78 "))
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("projections ok: position 78"))
    }

    @Test func anyDeliveryOrderGivesTheSameDigest() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let inOrder = folder.path("in-order.sqlite")
        _ = try await AvaildProcess.run(["replay", deliveries, "--database", inOrder])
        let expected = try await positionAndDigest(["digest", "--database", inOrder])

        // The same bodies, shuffled and partly repeated, POSTed to a live daemon.
        var random = SplitMix64(seed: 20_261_125)
        var bodies = try Corpus.fixtureBodies()
        bodies += (0..<10).map { _ in bodies[Int(random.next() % UInt64(bodies.count))] }
        bodies.shuffle(using: &random)
        let shuffled = folder.path("shuffled")
        try FileManager.default.createDirectory(atPath: shuffled, withIntermediateDirectories: true)
        for (index, body) in bodies.enumerated() {
            try body.write(to: URL(fileURLWithPath: shuffled).appendingPathComponent(String(format: "%03d.json", index)))
        }
        let live = folder.path("live.sqlite")
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(live))
        let replay = try await AvaildProcess.run(["replay", shuffled, "--to", "http://127.0.0.1:\(port)", "--signing-key", signingKey])
        #expect(replay.stdout == "appended 67, duplicates 16, rejected 0\n", "\(replay.stderr)")
        _ = try await adminJSON("/events?min_position=67", port: port)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        #expect(try await positionAndDigest(["digest", "--database", live]) == expected)
    }

    @Test func verifyFindsTamperedReadModelsAndRebuildRepairsThem() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        _ = try await AvaildProcess.run(["replay", deliveries, "--database", database])
        let good = try await positionAndDigest(["digest", "--database", database])
        let generation = try #require(try ReadModelFilesTests.generations(database).last)
        let readModels = try DatabaseQueue(path: "\(database).read-models-\(generation)")
        try await readModels.write { db in try db.execute(sql: "UPDATE appointments SET no_show = 1 - no_show WHERE rowid = 3") }
        let broken = try await AvaildProcess.run(["verify", "--database", database])
        #expect(broken.status != 0)
        #expect(broken.stdout.contains("projections DIFFER"))
        #expect(broken.stderr.contains("run availd rebuild"))
        #expect(try await positionAndDigest(["rebuild", "--database", database]) == good)
        #expect(try await AvaildProcess.run(["verify", "--database", database]).status == 0)
    }

    @Test func theDaemonCatchesUpOnAnOfflineAppend() async throws {
        // Projections resume from their checkpoint after a restart, including events appended
        // while the daemon was down.
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        let (first, port) = try await AvaildProcess.serve(serveArguments(database))
        let put = try await adminRequest("PUT", "/experts/ada", json: #"{"name":"Ada Lovelace","email":"ada.lovelace@experts.example","timezone":"Europe/London"}"#, port: port)
        #expect(put.status == 200)
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)
        _ = try await AvaildProcess.run(["replay", deliveries + "/01-bookings", "--database", database])
        let (second, secondPort) = try await AvaildProcess.serve(serveArguments(database))
        defer { second.signal(SIGKILL) }
        let list = try await adminJSON("/experts/ada/appointments?min_position=10", port: secondPort)
        #expect((list["appointments"] as? [[String: Any]])?.count == 3)
    }
}
