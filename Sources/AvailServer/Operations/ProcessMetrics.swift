import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Prometheus' standard `process_*` metrics for this process, read from `/proc` when
/// `/metrics` is scraped: CPU time, resident and virtual memory, open and maximum file
/// descriptors, start time. Elsewhere than Linux (no `/proc`), none.
enum ProcessMetrics {
    struct Sample: Equatable {
        var cpuSeconds: Double
        var residentBytes: Int
        var virtualBytes: Int
        var startTimeSeconds: Double
        var openFileDescriptors: Int
        var maxFileDescriptors: Int?
    }

    /// The sample's exposition, in Prometheus' text format.
    static func exposition(_ sample: Sample?) -> String {
        guard let sample else { return "" }
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", "\(sample.cpuSeconds)")
        metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", "\(sample.residentBytes)")
        metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", "\(sample.virtualBytes)")
        metric("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", "\(sample.startTimeSeconds)")
        metric("process_open_fds", "gauge", "Number of open file descriptors.", "\(sample.openFileDescriptors)")
        if let max = sample.maxFileDescriptors {
            metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", "\(max)")
        }
        return text
    }

    /// This process now; nil without `/proc`.
    static func sample() -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let bootTime = bootTimeSeconds()
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard var sample = parse(stat: stat, ticksPerSecond: ticks, pageSize: pageSize, bootTime: bootTime) else { return nil }
        sample.openFileDescriptors = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count ?? 1) - 1
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
            sample.maxFileDescriptors = Int(limit.rlim_cur)
        }
        return sample
    }

    /// `/proc/self/stat`'s fields (see proc(5)): after the command in parentheses, which may
    /// itself hold spaces and parentheses, field 14 is utime, 15 stime, 22 starttime (clock
    /// ticks since boot), 23 vsize (bytes), 24 rss (pages).
    static func parse(stat: String, ticksPerSecond: Double, pageSize: Int, bootTime: Double) -> Sample? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (the state).
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24) else {
            return nil
        }
        return Sample(
            cpuSeconds: (utime + stime) / ticksPerSecond, residentBytes: Int(rss) * pageSize, virtualBytes: Int(vsize),
            startTimeSeconds: bootTime + start / ticksPerSecond, openFileDescriptors: 0, maxFileDescriptors: nil)
    }

    private static func bootTimeSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }
}
