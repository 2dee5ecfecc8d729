import ArgumentParser
import AvailCore
import AvailWorkload
import Foundation
import Histogram

/// Sends distinct signed deliveries to a running daemon and reports throughput, latency
/// percentiles and the daemon's peak memory.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Send distinct signed deliveries at a given concurrency (or rate) and print the figures."
    )

    @Option(help: "Base URL of the daemon.")
    var url = "http://127.0.0.1:8080"

    @Option(name: .customLong("signing-key"), help: "Key to sign with [AVAILD_SIGNING_KEYS: the first one].")
    var signingKey: String?

    @Option(help: "Deliveries to send.")
    var count = 50_000

    @Option(help: "Requests in flight at once.")
    var concurrency = 64

    @Option(help: "Target deliveries per second (open loop, latency measured from the scheduled time); unlimited when absent.")
    var rate: Double?

    @Option(help: "Deliveries sent before measuring (not counted).")
    var warmup = 2_000

    @Option(help: "Makes the deliveries of this run distinct from other runs'; random when absent.")
    var seed: String?

    @Option(name: .customLong("daemon-pid"), help: "Process id of the daemon, to report its peak resident memory.")
    var daemonPID: Int32?

    @Option(help: "Also write the figures as JSON to this file.")
    var json: String?

    @Option(name: .customLong("lag-probe-every"), help: "Measure projection lag on every Nth delivery (needs --admin-token).")
    var lagProbeEvery: Int?

    @Option(name: .customLong("admin-token"), help: "Admin token for the lag probes [AVAILD_ADMIN_TOKEN].")
    var adminToken: String?

    func validate() throws {
        guard count > 0, concurrency > 0, warmup >= 0 else { throw ValidationError("count and concurrency must be positive") }
        if let rate, rate <= 0 { throw ValidationError("rate must be positive") }
    }

    func run() async throws {
        guard let key = signingKey ?? ProcessInfo.processInfo.environment["AVAILD_SIGNING_KEYS"]?
            .split(separator: ",").first.map(String.init)
        else { throw ValidationError("--signing-key is required") }
        let seed = self.seed ?? Secret.generate(byteCount: 6)
        let (host, port) = try Self.loopbackAddress(url)

        if warmup > 0 {
            let requests = LoadRun.requests(for: Self.bodies(warmup, seed: seed + "-warmup"), host: host, port: port, key: key)
            _ = await LoadRun(host: host, port: port, requests: requests, concurrency: concurrency, rate: nil).run()
        }
        // Requests are built and signed before the clock starts: the figures measure availd,
        // not this generator's JSON and HMAC work.
        let requests = LoadRun.requests(for: Self.bodies(count, seed: seed), host: host, port: port, key: key)
        var run = LoadRun(host: host, port: port, requests: requests, concurrency: concurrency, rate: rate)
        if let every = lagProbeEvery {
            guard let token = adminToken ?? ProcessInfo.processInfo.environment["AVAILD_ADMIN_TOKEN"] else {
                throw ValidationError("--lag-probe-every needs --admin-token")
            }
            run.probes = Self.lagProbes(count: count, every: every, seed: seed, host: host, port: port, token: token)
        }
        let result = await run.run()

        let report = Report(
            url: url, count: count, concurrency: concurrency, rate: rate, result: result,
            daemonPeakRSSBytes: daemonPID.flatMap(Self.peakResidentBytes)
        )
        print(report.text)
        if let json {
            try report.jsonData().write(to: URL(fileURLWithPath: json))
        }
        if result.failed > 0 { throw ExitCode.failure }
    }

    /// `http://127.0.0.1:PORT` (or `localhost`): load goes to this machine only.
    static func loopbackAddress(_ url: String) throws -> (host: String, port: Int) {
        guard let components = URLComponents(string: url), components.scheme == "http",
            let host = components.host, let port = components.port
        else { throw ValidationError("--url must look like http://127.0.0.1:PORT") }
        let address = host == "localhost" ? "127.0.0.1" : host
        guard address.hasPrefix("127.") else { throw ValidationError("--url must be a loopback address") }
        return (address, port)
    }

    /// `GET /appointments/{id}` of every `every`-th delivery: 404 until the projector has it.
    static func lagProbes(count: Int, every: Int, seed: String, host: String, port: Int, token: String) -> [Int: [UInt8]] {
        var probes: [Int: [UInt8]] = [:]
        for index in stride(from: 0, to: count, by: max(1, every)) {
            let uri = DeliveryBuilder.inviteeURI(
                event: DeliveryBuilder.uuid(seed + "-event", index), invitee: DeliveryBuilder.uuid(seed + "-invitee", index))
            let request = "GET /appointments/\(Appointment.id(inviteeURI: uri)) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
                + "Authorization: Bearer \(token)\r\n\r\n"
            probes[index] = Array(request.utf8)
        }
        return probes
    }

    static func bodies(_ count: Int, seed: String) -> [Data] {
        let builder = DeliveryBuilder()
        return (0..<count).map { builder.invitee(index: $0, seed: seed) }
    }

    /// `VmHWM` of `/proc/PID/status`: the process's peak resident set.
    static func peakResidentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }
}
