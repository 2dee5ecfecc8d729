import AvailClient
import AvailCore
import Foundation
import Histogram
import Synchronization

/// One measured run: `concurrency` threads, each with one kept-alive connection, take the next
/// prebuilt signed request, send it, and record the latency in an HdrHistogram (microseconds).
struct LoadRun: Sendable {
    let host: String
    let port: Int
    let requests: [[UInt8]]
    let concurrency: Int
    let rate: Double?
    /// For some requests, a `GET` that answers 200 once the delivery is projected: measured
    /// from the delivery's 2xx until it does (the projection lag).
    var probes: [Int: [UInt8]] = [:]

    struct Result: Sendable {
        var latencies: Histogram<UInt64>
        var lags: Histogram<UInt64>
        var statuses: [Int: Int]
        var failed: Int
        var elapsed: Duration

        var acknowledged: Int { statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +) }
    }

    struct WorkerResult: Sendable {
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var lags = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var statuses: [Int: Int] = [:]
        var failed = 0
    }

    /// Builds the exact bytes of a signed `POST /webhooks/calendly` for each body.
    static func requests(for bodies: [Data], host: String, port: Int, key: String) -> [[UInt8]] {
        let timestamp = Timestamp.now().unixSeconds
        return bodies.map { body in
            let signature = WebhookSignature.sign(body, key: key, timestamp: timestamp).headerValue
            let head = "POST /webhooks/calendly HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\n"
                + "Calendly-Webhook-Signature: \(signature)\r\nContent-Length: \(body.count)\r\n\r\n"
            return Array(head.utf8) + Array(body)
        }
    }

    func run() async -> Result {
        let cursor = Cursor()
        let results = Mutex<[WorkerResult]>([])
        let start = ContinuousClock.now
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let remaining = Mutex(concurrency)
            for _ in 0..<concurrency {
                let thread = Thread { [self] in
                    let result = work(cursor: cursor, start: start)
                    results.withLock { $0.append(result) }
                    if remaining.withLock({ $0 -= 1; return $0 }) == 0 { done.resume() }
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
        let elapsed = ContinuousClock.now - start
        var merged = WorkerResult()
        for worker in results.withLock({ $0 }) {
            merged.latencies.add(worker.latencies)
            merged.lags.add(worker.lags)
            merged.statuses.merge(worker.statuses, uniquingKeysWith: +)
            merged.failed += worker.failed
        }
        return Result(latencies: merged.latencies, lags: merged.lags, statuses: merged.statuses, failed: merged.failed, elapsed: elapsed)
    }

    private func work(cursor: Cursor, start: ContinuousClock.Instant) -> WorkerResult {
        var result = WorkerResult()
        let connection = RawHTTPConnection.keptAlive(host: host, port: port)
        while let index = cursor.next(below: requests.count) {
            var sentAt = ContinuousClock.now
            if let rate {
                let scheduled = start + .seconds(Double(index) / rate)
                let wait = scheduled - sentAt
                if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.attoseconds) / 1e18 + Double(wait.components.seconds)) }
                sentAt = scheduled
            }
            var status = 0
            do {
                status = try connection.roundTrip(requests[index])
                result.statuses[status, default: 0] += 1
            } catch {
                result.failed += 1
            }
            let acknowledged = ContinuousClock.now
            _ = result.latencies.record(Self.microseconds(acknowledged - sentAt))
            if (200..<300).contains(status), let probe = probes[index] {
                // Poll until readable; each poll is one loopback round trip (~0.1 ms).
                while (try? connection.roundTrip(probe)) == 404, ContinuousClock.now - acknowledged < .seconds(10) {}
                _ = result.lags.record(Self.microseconds(ContinuousClock.now - acknowledged))
            }
        }
        return result
    }

    private static func microseconds(_ duration: Duration) -> UInt64 {
        let parts = duration.components
        return UInt64(max(0, parts.seconds * 1_000_000 + parts.attoseconds / 1_000_000_000_000))
    }
}

/// Hands each worker the next index.
final class Cursor: Sendable {
    private let value = Mutex(0)

    func next(below limit: Int) -> Int? {
        value.withLock { value in
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}
