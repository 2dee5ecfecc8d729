import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long command's progress on standard error: a line every few seconds (3, or
/// `AVAILD_PROGRESS_INTERVAL`) with what is done of the total, the rate and the time left,
/// `verify: 40960 of 200006 events (20%), 12345/s, about 13 s left`. Only on a terminal;
/// quiet otherwise (a supervisor's log or a pipe gets only the result).
struct ProgressLine {
    let label: String
    let unit: String
    private let start = ContinuousClock.now
    private var lastShown = ContinuousClock.now
    private let enabled = isatty(STDERR_FILENO) == 1
    private let interval: Duration
    private var shownAny = false

    init(label: String, unit: String = "events") {
        self.label = label
        self.unit = unit
        let seconds = Environment.value("AVAILD_PROGRESS_INTERVAL").flatMap(Double.init) ?? 3
        self.interval = .milliseconds(Int64(max(0, seconds) * 1000))
    }

    /// `done` of `total` (nil: not known) `unit`s; `note` is added to the line.
    mutating func update(done: Int64, total: Int64?, note: String? = nil) {
        guard enabled, ContinuousClock.now - lastShown >= interval else { return }
        lastShown = .now
        shownAny = true
        let line = Self.line(label: label, unit: unit, done: done, total: total, elapsed: Self.seconds(ContinuousClock.now - start))
        warn(note.map { "\(line), \($0)" } ?? line)
    }

    /// One last line when the counted part is done and another, not counted, begins (it may
    /// be long too: a rebuild writing its read models). Shown only if a line was.
    mutating func finished(_ next: String) {
        guard enabled, shownAny else { return }
        warn("\(label): done in \(String(format: "%.1f", Self.seconds(ContinuousClock.now - start))) s; \(next)")
    }

    static func line(label: String, unit: String, done: Int64, total: Int64?, elapsed: Double) -> String {
        let rate = Double(done) / max(elapsed, 0.001)
        guard let total, total > 0 else { return "\(label): \(done) \(unit), \(Int(rate))/s" }
        let fraction = min(1, Double(done) / Double(total))
        var line = "\(label): \(done) of \(total) \(unit) (\(Int(fraction * 100))%), \(Int(rate))/s"
        if done > 0 { line += String(format: ", about %.0f s left", Double(total - done) / max(rate, 0.001)) }
        return line
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
