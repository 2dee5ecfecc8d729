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
