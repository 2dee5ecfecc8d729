import ArgumentParser
import AvailPostgres
import AvailStore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check the log (no gaps, hash chain intact) and that the read models equal a rebuild.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var priority: BatchPriorityOptions

    func run() async throws {
        priority.apply()
        if database.isPostgres { return try await verifyPostgres() }
        _ = Log.bootstrap()
        let writer = try LogDatabase.open(path: try database.preparedPath())
        var walk = ProgressLine(label: "verify: the log")
        let report = try await EventLog(database: writer).verify(maximumProblems: 20) { walk.update(done: $0, total: $1) }
        Self.announce(report)
        var fold = ProgressLine(label: "verify: a fresh fold")
        try Self.finish(report, try await ReadModels(database: writer).compareWithRebuild { fold.update(done: $0, total: $1) })
    }

    /// The log in PostgreSQL, and its read models against a fresh fold.
    private func verifyPostgres() async throws {
        let (report, comparison) = try await database.withPostgres { postgres in
            let log = PostgresEventLog(database: postgres)
            var walk = ProgressLine(label: "verify: the log")
            let report = try await log.verify(maximumProblems: 20) { walk.update(done: $0, total: $1) }
            Self.announce(report)
            var fold = ProgressLine(label: "verify: a fresh fold")
            return (report, try await PostgresReadModels(database: postgres).compareWithRebuild(log: log) { fold.update(done: $0, total: $1) })
        }
        try Self.finish(report, comparison)
    }

    /// Prints what the log's walk found, as soon as it is known (before the read models are
    /// compared, which takes longer).
    private static func announce(_ report: LogVerification) {
        for problem in report.problems { warn("verify: \(problem)") }
        say("log \(report.isIntact ? "ok" : "BROKEN"): \(report.eventCount) events, head \(report.headHash)")
    }

    /// Prints what `comparison` found; fails unless the log and the read models both hold.
    private static func finish(_ report: LogVerification, _ comparison: (position: Int64, stored: String, rebuilt: String)) throws {
        let projectionsIntact = comparison.stored == comparison.rebuilt
        if !projectionsIntact {
            warn("verify: the read models (digest \(comparison.stored)) differ from a rebuild (digest \(comparison.rebuilt)); run availd rebuild")
        }
        say("projections \(projectionsIntact ? "ok" : "DIFFER"): position \(comparison.position) digest \(comparison.stored)")
        if !report.isIntact || !projectionsIntact { throw ExitCode.failure }
    }
}
