import Foundation
import Histogram

/// The figures of a load run, as text and JSON.
struct Report {
    let url: String
    let count: Int
    let concurrency: Int
    let rate: Double?
    let result: LoadRun.Result
    let daemonPeakRSSBytes: Int?

    var seconds: Double {
        Double(result.elapsed.components.seconds) + Double(result.elapsed.components.attoseconds) / 1e18
    }

    var throughput: Double { Double(result.acknowledged) / seconds }

    func millis(_ percentile: Double) -> Double {
        Double(result.latencies.valueAtPercentile(percentile)) / 1000
    }

    var text: String {
        let statuses = result.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        let memory = daemonPeakRSSBytes.map { String(format: "%.1f MB", Double($0) / 1_048_576) } ?? "unknown (no --daemon-pid)"
        return """
            availd-sim load: \(count) distinct deliveries to \(url), concurrency \(concurrency)\(rate.map { ", rate \(Int($0))/s" } ?? "")
              answers      \(statuses)\(result.failed > 0 ? ", transport failures: \(result.failed)" : "")
              throughput   \(String(format: "%.0f", throughput)) acknowledged deliveries/s over \(String(format: "%.2f", seconds)) s
              latency ms   p50 \(String(format: "%.2f", millis(50)))  p90 \(String(format: "%.2f", millis(90)))  p99 \(String(format: "%.2f", millis(99)))  max \(String(format: "%.2f", Double(result.latencies.max) / 1000))
              \(lagLine)daemon peak RSS  \(memory)
              machine      \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB
            """
    }

    /// Projection lag percentiles, when probes ran.
    var lagLine: String {
        guard result.lags.totalCount > 0 else { return "" }
        func ms(_ percentile: Double) -> String { String(format: "%.2f", Double(result.lags.valueAtPercentile(percentile)) / 1000) }
        return "projection lag ms (2xx to readable, \(result.lags.totalCount) probes)  p50 \(ms(50))  p99 \(ms(99))  max \(String(format: "%.2f", Double(result.lags.max) / 1000))\n  "
    }

    func jsonData() throws -> Data {
        let object: [String: Any] = [
            "count": count, "concurrency": concurrency, "rate": rate ?? NSNull(),
            "acknowledged": result.acknowledged, "failed": result.failed,
            "statuses": Dictionary(uniqueKeysWithValues: result.statuses.map { (String($0.key), $0.value) }),
            "seconds": seconds, "throughput_per_second": throughput,
            "latency_ms": ["p50": millis(50), "p90": millis(90), "p99": millis(99), "max": Double(result.latencies.max) / 1000],
            "daemon_peak_rss_bytes": daemonPeakRSSBytes ?? NSNull(),
            "projection_lag_ms": result.lags.totalCount == 0 ? NSNull() : [
                "probes": result.lags.totalCount, "p50": Double(result.lags.valueAtPercentile(50)) / 1000,
                "p99": Double(result.lags.valueAtPercentile(99)) / 1000, "max": Double(result.lags.max) / 1000,
            ] as [String: Any],
            "cores": ProcessInfo.processInfo.activeProcessorCount,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
