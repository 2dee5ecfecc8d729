import ArgumentParser
import AvailStore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check the log: positions without gaps and the hash chain intact.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        _ = Log.bootstrap()
        let log = EventLog(database: try LogDatabase.open(path: try database.preparedPath()))
        let report = try await log.verify()
        for problem in report.problems { warn("verify: \(problem)") }
        say("log \(report.isIntact ? "ok" : "BROKEN"): \(report.eventCount) events, head \(report.headHash)")
        if !report.isIntact { throw ExitCode.failure }
    }
}
