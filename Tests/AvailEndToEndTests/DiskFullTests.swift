import AvailClient
import AvailTesting
import AvailWorkload
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
        let acknowledged = try await fillUntilRefused(sender, seed: "disk-full", attempts: 2000)

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
        // A delivery never sent before (the refused ones need not be the last indices: one
        // refused may be followed by one taken, once a checkpoint made room).
        let retry = try await WebhookSender(baseURL: "http://127.0.0.1:\(newPort)", signingKey: signingKey)
            .send(DeliveryBuilder().invitee(index: 0, seed: "disk-full-after"))
        #expect(retry.status == 202)
        restarted.signal(SIGTERM)
        #expect(try await restarted.waitForExit() == 0)
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}

/// The same on a real full filesystem: a size-limited tmpfs the test mounts (root only; CI runs
/// as root, and the file-size variant above covers the same contract anywhere). The daemon is
/// not restarted: when the filesystem grows again, it takes deliveries again by itself.
@Suite(.serialized) struct FullFilesystemTests {
    static let canMount = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount")

    @Test(.enabled(if: canMount, "mounting a tmpfs needs root"))
    func aFullFilesystemAnswers503AndRecoversWhenSpaceReturns() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let mountPoint = folder.path("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try mount(["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint])
        defer { _ = try? mount(["-l", mountPoint], command: "/bin/umount") }
        let database = mountPoint + "/availd.sqlite"

        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        let sender = WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: signingKey)
        let acknowledged = try await fillUntilRefused(sender, seed: "tmpfs-full", attempts: 5000)

        // Up, reading, and honest about not being ready.
        #expect(try await get("/healthz", port: port) == 200)
        #expect(try await get("/readyz", port: port) == 503)
        #expect(try await allEvents(port: port).count == acknowledged.count)

        // Space returns: the same process takes deliveries again and lost nothing.
        try mount(["-o", "remount,size=64m", mountPoint])
        var retried = 0
        for attempt in 0..<50 {
            if try await sender.send(DeliveryBuilder().invitee(index: 10_000 + attempt, seed: "tmpfs-full")).status == 202 {
                retried = attempt + 1
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(retried > 0, "no delivery was taken after space returned")
        let stored = try await allEvents(port: port).compactMap { $0["body"] as? String }
        #expect(Array(stored.prefix(acknowledged.count)) == acknowledged.map { String(decoding: $0, as: UTF8.self) })
        var ready = false
        for _ in 0..<50 where !ready {
            ready = try await get("/readyz", port: port) == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready, "readiness did not come back")
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let verify = try await AvaildProcess.run(["verify", "--database", database])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    private func mount(_ arguments: [String], command: String = "/bin/mount") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw AvaildProcess.Failure(description: "\(command) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }
}

/// Sends new deliveries until five in a row are refused; checks each refusal is the 503
/// `unavailable` with `Retry-After` a full disk must give; returns the acknowledged bodies.
func fillUntilRefused(_ sender: WebhookSender, seed: String, attempts: Int) async throws -> [Data] {
    var acknowledged: [Data] = []
    var refusals: [WebhookSender.Answer] = []
    for index in 0..<attempts where refusals.count < 5 {
        let body = DeliveryBuilder().invitee(index: index, seed: seed)
        let answer = try await sender.send(body)
        if answer.status == 202 { acknowledged.append(body) } else { refusals.append(answer) }
    }
    #expect(!acknowledged.isEmpty)
    #expect(refusals.count == 5, "the disk never filled")
    #expect(refusals.allSatisfy { $0.status == 503 })
    #expect(refusals.allSatisfy { $0.problemCode == "unavailable" })
    #expect(refusals.allSatisfy { $0.headers["Retry-After"] != nil })
    return acknowledged
}
