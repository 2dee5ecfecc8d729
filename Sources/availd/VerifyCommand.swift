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
        let report = try await EventLog(database: writer).verify()
        for problem in report.problems { warn("verify: \(problem)") }
        say("log \(report.isIntact ? "ok" : "BROKEN"): \(report.eventCount) events, head \(report.headHash)")
        let comparison = try await ReadModels(database: writer).compareWithRebuild()
        let projectionsIntact = comparison.stored == comparison.rebuilt
        if !projectionsIntact {
            warn("verify: the read models (digest \(comparison.stored)) differ from a rebuild (digest \(comparison.rebuilt)); run availd rebuild")
        }
        say("projections \(projectionsIntact ? "ok" : "DIFFER"): position \(comparison.position) digest \(comparison.stored)")
        if !report.isIntact || !projectionsIntact { throw ExitCode.failure }
    }

    /// The log in PostgreSQL (its read models are not kept there yet: nothing to compare).
    private func verifyPostgres() async throws {
        let password = try database.postgresPassword()
        let logger = Log.bootstrap(secrets: [password].compactMap { $0 })
        let report = try await AvailPostgresDatabase.withDatabase(url: database.path, password: password, logger: logger) {
            try await PostgresEventLog(database: $0).verify()
        }
        for problem in report.problems { warn("verify: \(problem)") }
        say("log \(report.isIntact ? "ok" : "BROKEN"): \(report.eventCount) events, head \(report.headHash)")
        if !report.isIntact { throw ExitCode.failure }
    }
}
