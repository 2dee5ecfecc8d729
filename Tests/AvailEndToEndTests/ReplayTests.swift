import AvailTesting
import Foundation
import Testing

@Suite struct ReplayTests {
    let deliveries = TestPaths.fixtures.appendingPathComponent("deliveries").path
    let invalid = TestPaths.fixtures.appendingPathComponent("invalid").path

    @Test func replaysTheFixturesOnceAndOnlyOnce() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("replay.sqlite")
        let first = try await AvaildProcess.run(["replay", deliveries, "--database", database])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "appended 67, duplicates 6, rejected 0\n")
        let second = try await AvaildProcess.run(["replay", deliveries, "--database", database])
        #expect(second.stdout == "appended 0, duplicates 73, rejected 0\n")
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        #expect(verify.status == 0)
        #expect(verify.stdout.hasPrefix("log ok: 67 events"))
    }

    @Test func rejectedBodiesFailTheReplayAndAreDeadLettered() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("replay.sqlite")
        let result = try await AvaildProcess.run(["replay", invalid, "--database", database])
        #expect(result.status != 0)
        #expect(result.stdout == "appended 0, duplicates 0, rejected 13\n")
        #expect(result.stderr.contains("invalid_payload"))
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        defer { daemon.signal(SIGKILL) }
        let letters = try await adminJSON("/dead-letters", port: port)["dead_letters"] as? [[String: Any]]
        #expect(letters?.count == 13)
    }

    @Test func replaysToARunningDaemonAsCalendlyWould() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("live.sqlite")
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        let replay = try await AvaildProcess.run([
            "replay", deliveries, "--to", "http://127.0.0.1:\(port)", "--signing-key", signingKey,
        ])
        #expect(replay.stdout == "appended 67, duplicates 6, rejected 0\n", "\(replay.stderr)")
        let wrongKey = try await AvaildProcess.run([
            "replay", deliveries + "/01-bookings", "--to", "http://127.0.0.1:\(port)", "--signing-key", "wrong",
        ])
        #expect(wrongKey.status != 0)
        #expect(wrongKey.stderr.contains("invalid_signature"))

        let events = try await allEvents(port: port)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let export = try await AvaildProcess.run(["export", "--database", database])
        let lines = export.stdout.split(separator: "\n").map {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? NSDictionary
        }
        #expect(lines.count == 67)
        #expect(lines == events.map { $0 as NSDictionary })
    }
}
