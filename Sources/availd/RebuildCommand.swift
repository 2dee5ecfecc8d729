import ArgumentParser
import AvailCore
import AvailStore

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Fold the whole log into fresh read models; print `position P digest D`.",
        discussion: """
            Safe beside a running daemon: the new read models replace the old in one transaction, \
            and the daemon's projector continues from there.
            """)

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        _ = Log.bootstrap()
        let writer = try LogDatabase.open(path: try database.preparedPath())
        let log = EventLog(database: writer)
        let readModels = ReadModels(database: writer)
        // A running daemon may append while we fold; fold again until the log stood still.
        for _ in 1...10 {
            let projection = try await log.fold()
            if try await readModels.replace(with: projection) {
                say("position \(projection.position) digest \(projection.digest)")
                return
            }
        }
        warn("rebuild: the log kept growing while it was folded; try again when it is quieter")
        throw ExitCode.failure
    }
}
