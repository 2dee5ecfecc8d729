import ArgumentParser
import AvailCore
import Foundation
import Histogram

/// Latency of one `GET` against a running daemon, over kept-alive loopback connections.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Send the same GET many times and print latency percentiles and throughput.")

    @Option(help: "Base URL of the daemon.")
    var url = "http://127.0.0.1:8080"

    @Option(help: "The path (and query) to GET.")
    var path: String

    @Option(name: .customLong("admin-token"), help: "Bearer token [AVAILD_ADMIN_TOKEN].")
    var adminToken: String?

    @Option(help: "Requests to send.")
    var count = 5_000

    @Option(help: "Requests in flight at once.")
    var concurrency = 1

    func run() async throws {
        let (host, port) = try LoadCommand.loopbackAddress(url)
        var head = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        if let token = adminToken ?? ProcessInfo.processInfo.environment["AVAILD_ADMIN_TOKEN"] {
            head += "Authorization: Bearer \(token)\r\n"
        }
        let request = Array((head + "\r\n").utf8)
        let result = await LoadRun(
            host: host, port: port, requests: Array(repeating: request, count: count), concurrency: concurrency, rate: nil
        ).run()
        let seconds = Double(result.elapsed.components.seconds) + Double(result.elapsed.components.attoseconds) / 1e18
        func ms(_ percentile: Double) -> String { String(format: "%.3f", Double(result.latencies.valueAtPercentile(percentile)) / 1000) }
        let statuses = result.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        print("""
            availd-sim probe: GET \(path), \(count) requests, concurrency \(concurrency)
              answers      \(statuses)
              throughput   \(Int(Double(count) / seconds)) requests/s
              latency ms   p50 \(ms(50))  p90 \(ms(90))  p99 \(ms(99))  max \(String(format: "%.3f", Double(result.latencies.max) / 1000)) (client-side, loopback included)
            """)
        if result.statuses[200] != count { throw ExitCode.failure }
    }
}
