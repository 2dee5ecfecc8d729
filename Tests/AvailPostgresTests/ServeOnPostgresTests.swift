import AsyncHTTPClient
import AvailClient
import AvailTesting
import AvailWorkload
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// `availd serve` on PostgreSQL: one daemon, and several on one database. One test at a time:
/// each runs two or three daemons, and `make test` runs this suite after the others.
@Suite(.serialized) struct ServeOnPostgresTests {
    static let signingKey = "postgres-signing-key"
    static let adminToken = "postgres-admin-token"
    static let secretKey = "postgres-secret-key-of-32-characters-or-more"

    static func serve(_ url: String) async throws -> (AvaildProcess, port: Int) {
        try await AvaildProcess.serve([
            "--database", url, "--signing-key", signingKey, "--admin-token", adminToken, "--secret-key", secretKey,
            "--reconcile-interval", "0",
        ])
    }

    /// `count` daemons on the database `url`.
    static func serve(_ count: Int, on url: String) async throws -> [(process: AvaildProcess, port: Int)] {
        var daemons: [(process: AvaildProcess, port: Int)] = []
        for _ in 0..<count { daemons.append(try await serve(url)) }
        return daemons
    }

    /// `availd verify` on the database: the log intact, and the read models equal a fresh fold.
    static func verify(_ url: String) async throws -> String {
        let verify = try await AvaildProcess.run(["verify", "--database", url])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        return verify.stdout
    }

    @Test func oneDaemonIngestsAndProjectsThere() async throws {
        let url = try TestPostgres.server().newDatabase()
        let (daemon, port) = try await Self.serve(url)
        let sender = WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: Self.signingKey)
        for index in 0..<60 {
            #expect(try await sender.send(DeliveryBuilder().invitee(index: index, seed: "one-daemon")).status == 202)
        }
        // The same delivery again is a duplicate: acknowledged, not stored twice.
        #expect(try await sender.send(DeliveryBuilder().invitee(index: 0, seed: "one-daemon")).status == 200)
        #expect(try await sender.send(Data("{}".utf8)).status / 100 == 4)
        let ready = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(10))
        let readiness = String(buffer: try await ready.body.collect(upTo: 1 << 16))
        #expect(ready.status == .ok, "\(readiness)")
        #expect(readiness.contains(#""database":"ok""#), "\(readiness)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let report = try await Self.verify(url)
        #expect(report.contains("log ok: 60 events"), "\(report)")
        #expect(report.contains("projections ok: position 60"), "\(report)")
    }

    @Test func aDaemonOnPostgreSQLNeedsTheSharedSecretsGiven() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let url = try TestPostgres.server().newDatabase()
        // Run inside an empty folder: a daemon that generated a secret beside "the database" would write it there.
        let child = try AvaildProcess(
            "availd", ["serve", "--port", "0", "--database", url, "--signing-key", Self.signingKey],
            shellPrefix: "cd '\(folder.url.path)' &&")
        #expect(try await child.waitForExit() != 0)
        #expect(await child.stderrText().contains("on PostgreSQL every daemon needs the same --signing-key, --admin-token and --secret-key"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty)
    }

    /// Two daemons on one database, deliveries spread over both, one killed (-9) mid-stream:
    /// every delivery either acknowledged is in the log, the survivor goes on, and the read
    /// models are the fold of the log.
    @Test func twoDaemonsShareOneDatabaseAndLoseNothingWhenOneIsKilled() async throws {
        let url = try TestPostgres.server().newDatabase()
        let daemons = try await Self.serve(2, on: url)
        defer { for daemon in daemons { daemon.process.signal(SIGKILL) } }
        let (first, firstPort) = daemons[0], (second, secondPort) = daemons[1]
        let senders = [firstPort, secondPort].map {
            WebhookSender(baseURL: "http://127.0.0.1:\($0)", signingKey: Self.signingKey, timeout: .seconds(5))
        }
        let bodies = (0..<1200).map { DeliveryBuilder().invitee(index: $0, seed: "two-daemons") }
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    while true {
                        let index = tally.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < bodies.count else { return }
                        if index == bodies.count / 3 { first.signal(SIGKILL) }
                        // Half the workers send to each daemon; once the first is gone, they try the second.
                        for sender in worker % 2 == 0 ? senders : senders.reversed() {
                            if let answer = try? await sender.send(bodies[index]), answer.status / 100 == 2 {
                                tally.acknowledged.withLock { _ = $0.insert(index) }
                                break
                            }
                        }
                    }
                }
            }
        }
        _ = try await first.waitForExit()
        let acked = tally.acknowledged.withLock { $0 }
        #expect(acked.count == bodies.count, "the survivor took what the killed one could not")
        second.signal(SIGTERM)
        #expect(try await second.waitForExit() == 0)

        let export = try await AvaildProcess.run(["export", "--database", url])
        let stored = Set(export.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["body"] as? String
        })
        #expect(stored.count == bodies.count, "each delivery once, whichever daemon took it")
        #expect(acked.allSatisfy { stored.contains(String(decoding: bodies[$0], as: UTF8.self)) })
        let report = try await Self.verify(url)
        #expect(report.contains("projections ok: position \(bodies.count)"), "\(report)")
    }
}

extension ServeOnPostgresTests {
    /// `GET path` of the daemon on `port`: status, `Log-Position` and body.
    static func get(_ path: String, port: Int) async throws -> (status: Int, logPosition: Int64?, body: String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 22))
        return (Int(response.status.code), response.headers.first(name: "Log-Position").flatMap { Int64($0) }, body)
    }

    /// Whether the daemon on `port` says it projects (`availd_projection_leader`); nil when it
    /// does not answer.
    static func leads(port: Int) async -> Bool? {
        guard let metrics = try? await get("/metrics", port: port) else { return nil }
        let line = metrics.body.split(separator: "\n").first { $0.hasPrefix("availd_projection_leader ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 == 1 }
    }

    /// Waits until exactly one of `ports` projects; its index, and how long it took.
    static func leader(among ports: [Int], within limit: Duration) async throws -> (index: Int, took: Duration) {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < limit {
            var leading: [Int] = []
            for (index, port) in ports.enumerated() where await leads(port: port) == true { leading.append(index) }
            #expect(leading.count <= 1, "two daemons project at once: \(leading)")
            if leading.count == 1 { return (leading[0], ContinuousClock.now - started) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw AvaildProcess.Failure(description: "no daemon took the projection lease within \(limit)")
    }

    /// Three daemons on one database: exactly one projects; the others publish its position,
    /// so `min_position` waits the same on every daemon; `kill -9` of the one projecting hands
    /// the lease to another within 5 seconds, and nothing acknowledged is lost.
    @Test func exactlyOneOfThreeDaemonsProjectsAndAnotherTakesOverWhenItIsKilled() async throws {
        let url = try TestPostgres.server().newDatabase()
        let daemons = try await Self.serve(3, on: url)
        defer { for daemon in daemons { daemon.process.signal(SIGKILL) } }
        let first = try await Self.leader(among: daemons.map(\.port), within: .seconds(10))

        var sent = 0
        func send(_ count: Int, to targets: [Int]) async throws {
            for offset in 0..<count {
                let port = daemons[targets[offset % targets.count]].port
                let answer = try await WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: Self.signingKey)
                    .send(DeliveryBuilder().invitee(index: sent, seed: "three-daemons"))
                #expect(answer.status == 202)
                sent += 1
            }
        }
        try await send(150, to: [0, 1, 2])
        for daemon in daemons {
            let answer = try await Self.get("/healthz?min_position=\(sent)", port: daemon.port)
            #expect(answer.status == 200, "\(answer.body)")
            #expect((answer.logPosition ?? 0) >= Int64(sent), "every daemon reports the projected position")
        }

        daemons[first.index].process.signal(SIGKILL)
        _ = try await daemons[first.index].process.waitForExit()
        let survivors = daemons.indices.filter { $0 != first.index }
        let takeover = try await Self.leader(among: survivors.map { daemons[$0].port }, within: .seconds(5))
        #expect(takeover.took < .seconds(5))
        try await send(150, to: survivors)
        for index in survivors {
            let answer = try await Self.get("/healthz?min_position=\(sent)", port: daemons[index].port)
            #expect(answer.status == 200, "\(answer.body)")
        }
        // The one projecting stops last: the other has nothing to drain.
        let projecting = survivors[takeover.index]
        for index in survivors.filter({ $0 != projecting }) + [projecting] {
            daemons[index].process.signal(SIGTERM)
            #expect(try await daemons[index].process.waitForExit() == 0)
        }
        let report = try await Self.verify(url)
        #expect(report.contains("log ok: \(sent) events"), "\(report)")
        #expect(report.contains("projections ok: position \(sent)"), "\(report)")
    }
}

extension ServeOnPostgresTests {
    /// `method path` as admin with a JSON body, to the daemon on `port`: status and problem code.
    static func call(_ method: HTTPMethod, _ path: String, json: String, port: Int) async throws -> (status: Int, code: String?) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(adminToken)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        return (Int(response.status.code), object?["code"] as? String)
    }

    /// A Monday at least a week ahead, as `YYYY-MM-DD`.
    static var monday: String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var date = Date().addingTimeInterval(7 * 86_400)
        while calendar.component(.weekday, from: date) != 2 { date = date.addingTimeInterval(86_400) }
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// One native slot, forty bookings of it spread over two daemons at once: exactly one
    /// wins, whichever daemon it reached; the others are refused as taken.
    @Test func theNativeBookingRaceHasOneWinnerAcrossDaemons() async throws {
        let daemons = try await Self.serve(2, on: try TestPostgres.server().newDatabase())
        defer { for daemon in daemons { daemon.process.signal(SIGKILL) } }
        let (first, firstPort) = daemons[0], (second, secondPort) = daemons[1]
        let created = try await Self.call(
            .PUT, "/experts/ada", json: #"{"name":"Ada Lovelace","email":"ada@experts.example","timezone":"UTC"}"#, port: firstPort)
        #expect(created.status == 200)
        let schedule = #"{"timezone":"UTC","duration_minutes":60,"rules":[{"type":"wday","wday":"monday","intervals":[{"from":"09:00","to":"12:00"}]}]}"#
        let native = try await Self.call(.PUT, "/experts/ada/integration", json: #"{"type":"native","schedule":\#(schedule)}"#, port: secondPort)
        #expect(native.status == 200)
        let ports = [firstPort, secondPort]
        let answers = try await withThrowingTaskGroup(of: (status: Int, code: String?).self) { group in
            for index in 0..<40 {
                group.addTask {
                    let booking = #"{"start_time":"\#(Self.monday)T10:00:00Z","invitee":{"name":"Racer \#(index)","email":"racer\#(index)@example.com"}}"#
                    return try await Self.call(.POST, "/experts/ada/appointments", json: booking, port: ports[index % 2])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.filter { $0.status == 201 }.count == 1, "\(answers)")
        #expect(answers.filter { $0.status == 409 && $0.code == "slot_unavailable" }.count == 39, "\(answers)")
    }
}

/// What the sending workers share: the next delivery to send, and those acknowledged.
final class Tally: Sendable {
    let next = Atomic<Int>(0)
    let acknowledged = Mutex<Set<Int>>([])
}
