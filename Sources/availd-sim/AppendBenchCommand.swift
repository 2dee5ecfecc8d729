import ArgumentParser
import AvailCore
import AvailPostgres
import AvailStore
import AvailWorkload
import Foundation
import Histogram
import Logging
import Synchronization

/// Appends through the group-committing `LogWriter` as the webhook path does, one delivery per
/// caller, from many callers at once: how many durable appends a second one process gets from
/// the log of either backend, without HTTP in front.
struct AppendBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append-bench",
        abstract: "Durable appends per second through the LogWriter, SQLite or PostgreSQL, and their latency.",
        discussion: """
            --concurrency callers each append one distinct generated delivery (about 2 KB) at a time \
            for --seconds after a second of warm-up; prints `appends A/s p50 P ms p99 Q ms batches B \
            (mean size M)` and, as JSON with --json.
            """)

    @Option(help: "An SQLite file (created) or postgres://USER@HOST:PORT/DATABASE.")
    var database: String

    @Option(help: "Callers appending at once.")
    var concurrency = 64

    @Option(help: "How long to measure, in seconds.")
    var seconds = 10

    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    func run() async throws {
        let logger = Logger(label: "append-bench")
        if AvailPostgresDatabase.isURL(database) {
            let report = try await AvailPostgresDatabase.withDatabase(url: database, logger: logger) { postgres in
                try await measure(PostgresEventLog(database: postgres), logger: logger)
            }
            print(report)
        } else {
            print(try await measure(LogDatabase.open(path: database).log, logger: logger))
        }
    }

    private func measure(_ log: any EventStore, logger: Logger) async throws -> String {
        // Every caller's deliveries made before the clock starts: distinct, realistic bodies.
        let bodies = GeneratedCorpus.histories(seed: UInt64(Date().timeIntervalSince1970), invitees: 40_000).flatMap { $0 }
        let events = try bodies.map { NewEvent(delivery: try Delivery(body: $0), signature: "t=1,v1=00", receivedAt: .now()) }
        let batches = Mutex((count: 0, events: 0))
        let writer = LogWriter(log: log, logger: logger) { _, size in batches.withLock { $0.count += 1; $0.events += size } }
        let running = Task { try await writer.run() }
        defer { running.cancel() }
        let warmUp = ContinuousClock.now + .seconds(1)
        let end = warmUp + .seconds(seconds)
        let concurrency = self.concurrency
        let (all, finished) = try await withThrowingTaskGroup(of: (Histogram<UInt64>, ContinuousClock.Instant).self) { group in
            // Caller c appends events c, c + concurrency, c + 2 × concurrency, …: each once.
            for caller in 0..<concurrency {
                group.addTask {
                    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                    var finished = ContinuousClock.now
                    for index in stride(from: caller, to: events.count, by: concurrency) {
                        let started = ContinuousClock.now
                        guard started < end else { break }
                        _ = try await writer.append(events[index])
                        finished = .now
                        if started >= warmUp {
                            let elapsed = ContinuousClock.now - started
                            latencies.record(UInt64(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
                        }
                    }
                    return (latencies, finished)
                }
            }
            var all = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            var last = warmUp
            for try await (latencies, finished) in group {
                all.add(latencies)
                last = max(last, finished)
            }
            return (all, last)
        }
        // Over the time measured: the generated deliveries may run out before `end`.
        let measured = finished - warmUp
        let elapsed = Double(measured.components.seconds) + Double(measured.components.attoseconds) / 1e18
        let (count, appended) = batches.withLock { $0 }
        let rate = Double(all.totalCount) / max(elapsed, 0.001)
        let p50 = Double(all.valueAtPercentile(50)) / 1000, p99 = Double(all.valueAtPercentile(99)) / 1000
        let mean = count == 0 ? 0 : Double(appended) / Double(count)
        if json {
            return String(format: #"{"appends_per_second":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"batches":%d,"mean_batch":%.1f,"concurrency":%d}"#,
                          rate, p50, p99, count, mean, concurrency)
        }
        return String(format: "appends %.0f/s p50 %.2f ms p99 %.2f ms batches %d (mean size %.1f)", rate, p50, p99, count, mean)
    }
}
