import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long command's progress on standard error: a line every few seconds with what is done, the
/// rate and, when the total is known, the time left. Only on a terminal; quiet otherwise (a
/// supervisor's log or a pipe gets only the result).
struct ProgressLine {
    let label: String
    private let start = ContinuousClock.now
    private var lastShown = ContinuousClock.now
    private let enabled = isatty(STDERR_FILENO) == 1

    init(label: String) {
        self.label = label
    }

    /// `done` of `total` (both in `unit`s); `events` is shown as the rate's count.
    mutating func update(done: Int64, total: Int64?, events: Int64) {
        guard enabled, ContinuousClock.now - lastShown >= .seconds(3) else { return }
        lastShown = .now
        let elapsed = Self.seconds(ContinuousClock.now - start)
        var line = "\(label): \(events) events, \(Int(Double(events) / max(elapsed, 0.001)))/s"
        if let total, total > 0, done > 0 {
            let fraction = Double(done) / Double(total)
            let left = elapsed / fraction - elapsed
            line += String(format: ", %.0f%%, about %.0f s left", fraction * 100, left)
        }
        warn(line)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
