import AvailClient
import AvailTesting
import Foundation
import Testing

/// The log cannot grow (a file-size limit stands in for a full disk): deliveries get 503, the
/// daemon stays up and serves reads, and everything acknowledged before is intact afterwards.
@Suite struct DiskFullTests {
    @Test func aFullDiskAnswers503AndLosesNothing() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        // ulimit -f counts 1 KiB blocks: the WAL cannot grow past 512 KiB.
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database), shellPrefix: "ulimit -f 512;")
        let sender = WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: signingKey)
        var acknowledged: [Data] = []
        var refusals: [WebhookSender.Answer] = []
        for index in 0..<2000 where refusals.count < 5 {
            let body = DeliveryBuilder().invitee(index: index, seed: "disk-full")
            let answer = try await sender.send(body)
            if answer.status == 202 { acknowledged.append(body) } else { refusals.append(answer) }
        }
        #expect(!acknowledged.isEmpty)
        #expect(refusals.count == 5, "the limit was never reached")
        #expect(refusals.allSatisfy { $0.status == 503 })
        #expect(refusals.allSatisfy { (try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any])?["code"] as? String == "unavailable" })

        // Still up: health, reads, and an honest readiness.
        #expect(try await get("/healthz", port: port) == 200)
        #expect(try await get("/readyz", port: port) == 503)
        let whileFull = try await allEvents(port: port)
        #expect(whileFull.count == acknowledged.count)
        daemon.signal(SIGTERM)
        _ = try await daemon.waitForExit()

        // Space returns: everything acknowledged is there, byte for byte, and the chain holds.
        let (restarted, newPort) = try await AvaildProcess.serve(serveArguments(database))
        let stored = try await allEvents(port: newPort).compactMap { $0["body"] as? String }
        #expect(stored == acknowledged.map { String(decoding: $0, as: UTF8.self) })
        let retry = try await WebhookSender(baseURL: "http://127.0.0.1:\(newPort)", signingKey: signingKey)
            .send(DeliveryBuilder().invitee(index: acknowledged.count, seed: "disk-full"))
        #expect(retry.status == 202)
        restarted.signal(SIGTERM)
        #expect(try await restarted.waitForExit() == 0)
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}
