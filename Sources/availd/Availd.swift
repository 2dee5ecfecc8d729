import ArgumentParser
import AvailServer
import Foundation

@main
struct Availd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "availd",
        abstract: "Calendly webhooks into a durable append-only log, and availability on top of it.",
        version: "availd \(AvailVersion.current) (Swift \(AvailVersion.swift))",
        subcommands: [
            ServeCommand.self, ReplayCommand.self, RebuildCommand.self, DigestCommand.self, VerifyCommand.self,
            ExportCommand.self, ImportCommand.self, BackupCommand.self, TokenCommand.self, CalendlyCommand.self, DoctorCommand.self,
        ]
    )

    /// Before any command creates a file: what availd creates (the database, its WAL, the
    /// secrets, the folders) is its owner's alone, whatever umask it was started with.
    static func main() async {
        umask(0o077)
        await main(nil)
    }
}
