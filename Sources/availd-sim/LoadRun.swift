import AvailClient
import AvailCore
import Foundation
import Histogram
import Synchronization

/// One measured run: `concurrency` workers take the next body, sign it, POST it, and record
/// the latency in an HdrHistogram (microseconds).
struct LoadRun: Sendable {
    let sender: WebhookSender
    let bodies: [Data]
    let concurrency: Int
    let rate: Double?

    struct Result: Sendable {
        var latencies: Histogram<UInt64>
        var statuses: [Int: Int]
        var failed: Int
        var elapsed: Duration

        var acknowledged: Int { statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +) }
    }

    private struct WorkerResult: Sendable {
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var statuses: [Int: Int] = [:]
        var failed = 0
    }

    func run() async throws -> Result {
        let cursor = Cursor()
        let clock = ContinuousClock()
        let start = clock.now
        let timestamp = Timestamp.now().unixSeconds
        let signatures = bodies.map { WebhookSignature.sign($0, key: sender.signingKey, timestamp: timestamp).headerValue }
        let workers = try await withThrowingTaskGroup(of: WorkerResult.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var result = WorkerResult()
                    while true {
                        let index = cursor.next()
                        guard index < bodies.count else { return result }
                        var sentAt = clock.now
                        if let rate {
                            let scheduled = start + .seconds(Double(index) / rate)
                            if scheduled > sentAt { try await clock.sleep(until: scheduled) }
                            sentAt = scheduled
                        }
                        do {
                            let answer = try await sender.send(bodies[index], signatureHeader: signatures[index])
                            result.statuses[answer.status, default: 0] += 1
                        } catch {
                            result.failed += 1
                        }
                        let micros = (clock.now - sentAt).components
                        _ = result.latencies.record(UInt64(max(0, micros.seconds * 1_000_000 + micros.attoseconds / 1_000_000_000_000)))
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var merged = WorkerResult()
        for worker in workers {
            merged.latencies.add(worker.latencies)
            merged.statuses.merge(worker.statuses, uniquingKeysWith: +)
            merged.failed += worker.failed
        }
        return Result(latencies: merged.latencies, statuses: merged.statuses, failed: merged.failed, elapsed: clock.now - start)
    }
}

/// Hands each worker the next index.
private final class Cursor: Sendable {
    private let value = Mutex(0)

    func next() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}
