import ArgumentParser
import AvailStore
import Foundation

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, verified copy of the SQLite database, beside a running daemon.",
        discussion: """
            The copy holds the log and everything kept with it; a daemon started on it folds the read models \
            anew. The secrets kept beside the database (<database>.signing-key, .admin-token, .secret-key) are \
            not in it: keep them apart, as the secret key unseals the Calendly tokens in the copy. PostgreSQL \
            is backed up with pg_dump (README.md, "Deploying").
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(name: .customLong("to"), help: "The new file to write; it must not exist.")
    var destination: String

    func run() async throws {
        _ = Log.bootstrap()
        let path = database.path
        guard path != LogDatabase.inMemory else { throw ValidationError("--database :memory: has nothing to back up") }
        guard !database.isPostgres else {
            throw ValidationError("a PostgreSQL database is backed up with pg_dump (README.md, \"Deploying\")")
        }
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("there is no database at \(path)") }
        let verification: LogVerification
        do {
            verification = try LogDatabase.open(path: path).backup(to: destination)
        } catch let failure as AvailDatabase.BackupFailure {
            warn("availd backup: \(failure)")
            throw ExitCode.failure
        }
        say("backup \(destination): \(verification.eventCount) events, head \(verification.headHash), verified")
    }
}
