import ArgumentParser
import Foundation

/// How a long command that may run beside a daemon (`rebuild`, `verify`) shares the CPU with it.
struct BatchPriorityOptions: ParsableArguments {
    @Option(help: "Niceness to run at, 0-19: a daemon beside it keeps the CPU it needs (0: as started).")
    var nice: Int32 = 10

    func validate() throws {
        guard (0...19).contains(nice) else { throw ValidationError("--nice must be 0 to 19") }
    }

    /// Lowers every thread of this process to `nice`. On Linux niceness belongs to each thread,
    /// and a new thread takes its creator's, so every thread there is now is changed, and every
    /// later one inherits it.
    func apply() {
        guard nice > 0 else { return }
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for task in tasks.compactMap({ id_t($0) }) {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), task, nice)
        }
    }
}
