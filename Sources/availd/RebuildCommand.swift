import ArgumentParser
import AvailCore
import AvailPostgres
import AvailStore

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Fold the whole log into fresh read models; print `position P digest D`.",
        discussion: """
            Safe beside a running daemon: the new read models are written apart, in a file of their \
            own, and replace the old in one durable step; the daemon's projector brings them up to \
            date and moves its readers to them. Killed midway, it leaves the old read models.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var priority: BatchPriorityOptions

    func run() async throws {
        priority.apply()
        if database.isPostgres {
            // One transaction replaces the read models: readers see the old ones until it commits.
            let (position, digest) = try await database.withPostgres { postgres in
                var progress = ProgressLine(label: "rebuild: folding")
                let projection = try await PostgresEventLog(database: postgres).fold { progress.update(done: $0, total: $1) }
                progress.finished("writing the read models")
                return (projection.position, try await PostgresReadModels(database: postgres).replace(with: projection))
            }
            return say("position \(position) digest \(digest)")
        }
        _ = Log.bootstrap()
        let opened = try LogDatabase.open(path: try database.preparedPath())
        var progress = ProgressLine(label: "rebuild: folding")
        let projection = try await opened.log.fold { progress.update(done: $0, total: $1) }
        progress.finished("writing the read models")
        let digest = try await opened.readModels.replace(with: projection)
        say("position \(projection.position) digest \(digest)")
    }
}
