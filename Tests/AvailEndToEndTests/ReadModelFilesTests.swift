import AsyncHTTPClient
import AvailCore
import AvailStore
import AvailTesting
import AvailWorkload
import Foundation
import GRDB
import NIOCore
import Testing

/// The read models in files of their own, with the real executables: ingest and projection
/// side by side lose nothing, a rebuild beside a daemon under load leaves no delivery
/// unacknowledged and the daemon moves to it, and a rebuild killed at any moment leaves the
/// old read models or the new ones, never a mix.
@Suite(.serialized) struct ReadModelFilesTests {
    /// `availd-sim ARGUMENTS` to completion.
    static func sim(_ arguments: [String]) async throws -> AvaildProcess.Completed {
        try await AvaildProcess.run(executable: "availd-sim", arguments, timeout: .seconds(300))
    }

    /// The read-model generation files beside `database`, by number.
    static func generations(_ database: String) throws -> [Int] {
        let url = URL(fileURLWithPath: database)
        let prefix = url.lastPathComponent + ".read-models-"
        return try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(prefix) && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
            .compactMap { Int($0.dropFirst(prefix.count)) }.sorted()
    }

    /// `SELECT count(*) FROM table` in the current read-model generation of `database`.
    static func count(_ table: String, _ database: String) throws -> Int {
        let generation = try #require(try generations(database).last)
        let queue = try DatabaseQueue(path: "\(database).read-models-\(generation)")
        return try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? -1 }
    }

    static func positionAndDigest(_ arguments: [String]) async throws -> String {
        let result = try await AvaildProcess.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test func ingestAndProjectionSideBySideLoseNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        defer { daemon.signal(SIGKILL) }
        let report = folder.path("load.json")
        let load = try await Self.sim([
            "load", "--url", "http://127.0.0.1:\(port)", "--signing-key", signingKey, "--count", "4000",
            "--concurrency", "32", "--warmup", "0", "--json", report,
        ])
        #expect(load.status == 0, "\(load.stdout)\(load.stderr)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(figures["acknowledged"] as? Int == 4000)
        // Every acknowledged delivery is readable once the projector is at the log's end.
        _ = try await adminJSON("/events?min_position=4000", port: port)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        #expect(try Self.count("appointments", database) == 4000)
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("log ok: 4000 events"))
        #expect(verify.stdout.contains("projections ok: position 4000"))
        let digest = try await Self.positionAndDigest(["digest", "--database", database])
        #expect(try await Self.positionAndDigest(["rebuild", "--database", database]) == digest)
    }

    @Test func aRebuildBesideADaemonUnderLoadLosesNoDeliveryAndTheDaemonMovesToIt() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        let generated = try await Self.sim(["generate", "--database", database, "--deliveries", "6000"])
        #expect(generated.status == 0, "\(generated.stderr)")
        _ = try await Self.positionAndDigest(["rebuild", "--database", database])
        let before = try Self.generations(database)
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        defer { daemon.signal(SIGKILL) }
        let head = try #require(generated.stdout.firstMatch(of: /log position (\d+)/).flatMap { Int($0.1) })
        #expect(head > 6000)

        let report = folder.path("load.json")
        let load = try AvaildProcess("availd-sim", [
            "load", "--url", "http://127.0.0.1:\(port)", "--signing-key", signingKey, "--count", "3000",
            "--concurrency", "16", "--warmup", "0", "--json", report,
        ])
        // Two rebuilds while the deliveries come in.
        for _ in 0..<2 {
            let rebuild = try await AvaildProcess.run(["rebuild", "--database", database])
            #expect(rebuild.status == 0, "\(rebuild.stderr)")
        }
        let loadStatus = try await load.waitForExit(timeout: .seconds(300))
        let loadOutput = await load.stdoutText()
        #expect(loadStatus == 0, "\(loadOutput)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(figures["acknowledged"] as? Int == 3000)

        // The daemon moved to the last generation (its metric says so), and let the others go.
        let last = try #require(try Self.generations(database).last)
        #expect(last == before.last! + 2)
        var adopted = false
        for _ in 0..<100 where !adopted {
            adopted = try await metrics(port: port).contains("availd_read_models_generation \(last).0\n")
            if !adopted { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(adopted)
        _ = try await adminJSON("/events?min_position=\(head + 3000)", port: port)
        // It deletes the generations it left once their last reads are done.
        var files = try Self.generations(database)
        for _ in 0..<100 where files != [last] {
            try await Task.sleep(for: .milliseconds(100))
            files = try Self.generations(database)
        }
        #expect(files == [last])
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("projections ok: position \(head + 3000)"))
    }

    @Test func aRebuildKilledAtAnyMomentLeavesTheOldReadModelsOrTheNew() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        #expect(try await Self.sim(["generate", "--database", database, "--deliveries", "4000"]).status == 0)
        let old = try await Self.positionAndDigest(["rebuild", "--database", database])
        // More of the log that the old read models do not include, so old and new differ.
        #expect(try await Self.sim(["generate", "--database", database, "--deliveries", "2000", "--seed", "2"]).status == 0)
        // The log's head, as `verify` counts it ("log ok: N events, …"): what a finished rebuild reaches.
        let counted = try await AvaildProcess.run(["verify", "--database", database]).stdout
        let head = try #require(counted.split(separator: "log ok: ").last?.split(separator: " ").first.flatMap { Int($0) })
        #expect(head > 6000)
        var outcomes: Set<String> = []
        var random = SplitMix64(seed: 13)
        for round in 0..<6 {
            let rebuild = try AvaildProcess("availd", ["rebuild", "--database", database])
            // From at once to well after it has finished.
            try await Task.sleep(for: .milliseconds(Int(random.next() % 1500) + round * 100))
            rebuild.signal(SIGKILL)
            _ = try await rebuild.waitForExit()
            let now = try await Self.positionAndDigest(["digest", "--database", database])
            outcomes.insert(now == old ? "old" : "new")
            if now != old {
                #expect(now.hasPrefix("position \(head) "), "\(now)")
            }
            let verify = try await AvaildProcess.run(["verify", "--database", database])
            #expect(verify.status == 0, "round \(round): \(verify.stdout)\(verify.stderr)")
            // Opening the database deleted what the killed rebuild left half-written.
            let generations = try Self.generations(database)
            #expect(generations.count == 1, "round \(round): \(generations)")
        }
        let new = try await Self.positionAndDigest(["rebuild", "--database", database])
        #expect(new != old && new.hasPrefix("position \(head) "), "\(new)")
        #expect(outcomes.isSubset(of: ["old", "new"]))
    }
}

/// `GET /metrics`, as text.
func metrics(port: Int) async throws -> String {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
    return String(buffer: try await response.body.collect(upTo: 1 << 22))
}
