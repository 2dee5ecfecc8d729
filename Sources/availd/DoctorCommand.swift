import ArgumentParser
import AvailServer
import Foundation

/// `availd doctor`: checks what availd runs on and prints what to fix (see `Doctor`).
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the database, the secret files' modes, Calendly and the subscriptions, and print what to fix.",
        discussion: """
            Give it the options serve runs with. One line per finding (ok, warn or fail), with the fix under it. \
            Exits 1 when something fails. It creates nothing; it opens the database as serve does, migrations included.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var calendly: CalendlyOptions

    func run() async throws {
        var findings: [Doctor.Finding] = []
        let isFile = !database.isPostgres && database.path != ":memory:"
        if isFile { findings = Doctor.files(databasePath: database.path) }
        // Opened only if it is there: opening would create it.
        if !isFile || FileManager.default.fileExists(atPath: database.path) {
            do {
                let (access, logger) = try calendly.access(database: database)
                findings += try await database.withDatabase(logger: logger) { db in
                    await Doctor(database: db, access: access, logger: logger).check()
                }
            } catch {
                findings.append(Doctor.Finding(.fail, "database", "cannot be opened: \(error)",
                                               fix: "check --database (and AVAILD_DATABASE_PASSWORD for PostgreSQL)"))
            }
        }
        for finding in findings { say("\(finding)") }
        let failed = findings.filter { $0.level == .fail }.count
        let warned = findings.filter { $0.level == .warn }.count
        say(failed == 0 ? "no problem found\(warned == 0 ? "" : " (\(warned) \(warned == 1 ? "warning" : "warnings"))")"
                        : "\(failed) \(failed == 1 ? "problem" : "problems") to fix")
        if failed > 0 { throw ExitCode.failure }
    }
}
