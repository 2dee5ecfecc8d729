import ArgumentParser
import AvailPostgres
import AvailStore

struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "Print `position P digest D` of the read models as they stand.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        if database.isPostgres {
            let (position, digest) = try await database.withPostgres { try await PostgresReadModels(database: $0).digest() }
            return say("position \(position) digest \(digest)")
        }
        _ = Log.bootstrap()
        let readModels = ReadModels(database: try LogDatabase.open(path: try database.preparedPath()))
        let (position, digest) = try await readModels.digest()
        say("position \(position) digest \(digest)")
    }
}
