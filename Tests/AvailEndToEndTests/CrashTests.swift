import AvailClient
import AvailTesting
import AvailWorkload
import Foundation
import Synchronization
import Testing

/// `kill -9` in the middle of a stream of deliveries loses nothing that was acknowledged.
@Suite(.serialized) struct CrashTests {
    @Test func everyAcknowledgedDeliverySurvivesKillNine() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        let bodies = (0..<2400).map { DeliveryBuilder().invitee(index: $0, seed: "crash") }

        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        let sender = WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: signingKey, timeout: .seconds(5))
        let stream = SendingStream(count: bodies.count)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<48 {
                group.addTask {
                    while let index = stream.next() {
                        guard let answer = try? await sender.send(bodies[index]),
                            (200..<300).contains(answer.status)
                        else { continue }
                        if stream.acknowledge(index) == 1000 {
                            daemon.signal(SIGKILL)
                            stream.stop()
                        }
                    }
                }
            }
        }
        #expect(try await daemon.waitForExit() == SIGKILL)
        let acked = stream.acknowledged
        #expect(acked.count >= 1000)
        #expect(acked.count < bodies.count, "the daemon was killed mid-stream")

        let (restarted, newPort) = try await AvaildProcess.serve(serveArguments(database))
        let events = try await allEvents(port: newPort)
        let stored = events.compactMap { $0["body"] as? String }.map { Data($0.utf8) }
        #expect(events.map { $0["position"] as? Int } == Array(1...events.count).map { Optional($0) })
        #expect(Set(stored).count == stored.count, "nothing is stored twice")
        let storedSet = Set(stored)
        let missing = acked.filter { !storedSet.contains(bodies[$0]) }
        #expect(missing.isEmpty, "acknowledged but lost: \(missing.count)")

        // Calendly retries everything it did not see acknowledged (and some it did).
        let resender = WebhookSender(baseURL: "http://127.0.0.1:\(newPort)", signingKey: signingKey)
        for body in bodies { _ = try await resender.send(body) }
        #expect(try await allEvents(port: newPort).count == bodies.count)

        restarted.signal(SIGTERM)
        #expect(try await restarted.waitForExit() == 0)
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("log ok: \(bodies.count) events"))
    }
}

/// Hands out indexes to concurrent senders and records which were acknowledged.
final class SendingStream: Sendable {
    private struct State {
        var next = 0
        var stopped = false
        var acknowledged: Set<Int> = []
    }

    private let count: Int
    private let state = Mutex(State())

    init(count: Int) {
        self.count = count
    }

    func next() -> Int? {
        state.withLock { state in
            guard state.next < count, !state.stopped else { return nil }
            defer { state.next += 1 }
            return state.next
        }
    }

    /// Records `index`; returns how many are acknowledged now.
    func acknowledge(_ index: Int) -> Int {
        state.withLock { $0.acknowledged.insert(index); return $0.acknowledged.count }
    }

    /// Hands out no more indexes; requests already sent still count when answered.
    func stop() {
        state.withLock { $0.stopped = true }
    }

    var acknowledged: Set<Int> { state.withLock { $0.acknowledged } }
}
