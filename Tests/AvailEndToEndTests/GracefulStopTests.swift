import AvailClient
import AvailTesting
import AvailWorkload
import Foundation
import Synchronization
import Testing

/// SIGTERM while deliveries are being acknowledged: the daemon stops taking requests,
/// finishes those in flight, the writer drains, and the projector catches up before the
/// process exits, so the read models left on disk are where a rebuild of the log puts them.
@Suite struct GracefulStopTests {
    @Test func aStopAmidDeliveriesLeavesTheReadModelsAtTheLogsEnd() async throws {
        let bodies = try Corpus.sampleBodies() + Corpus.fixtureBodies()
        for round in 1...10 {
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let database = folder.path("availd.sqlite")
            let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
            let sender = WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: signingKey)
            let acknowledged = Acknowledged()
            // Eight at a time; the stop comes right after the 40th 2xx, with up to seven more
            // in flight, which the daemon finishes as it stops; no lane sends after it.
            await withTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        for index in stride(from: lane, to: bodies.count, by: 8) where acknowledged.count.load(ordering: .relaxed) < 40 {
                            // One sent just as the stop came may be refused: the stop is the point.
                            guard let answer = try? await sender.send(bodies[index]), (200..<300).contains(answer.status) else { return }
                            if acknowledged.count.wrappingAdd(1, ordering: .relaxed).newValue == 40 { daemon.signal(SIGTERM) }
                        }
                    }
                }
            }
            #expect(acknowledged.count.load(ordering: .relaxed) >= 40, "round \(round)")
            #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0, "round \(round)")

            let digest = try await AvaildProcess.run(["digest", "--database", database])
            let rebuild = try await AvaildProcess.run(["rebuild", "--database", database])
            #expect(rebuild.stdout.hasPrefix("position "), "round \(round): \(rebuild.stderr)")
            #expect(digest.stdout == rebuild.stdout, "round \(round)")
            if digest.stdout != rebuild.stdout { return }
        }
    }
}

/// 2xx answers so far, across the sending lanes.
private final class Acknowledged: Sendable {
    let count = Atomic<Int>(0)
}
