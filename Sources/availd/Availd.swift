import ArgumentParser

@main
struct Availd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "availd",
        abstract: "Calendly webhooks into a durable append-only log, and availability on top of it.",
        subcommands: [
            ServeCommand.self, ReplayCommand.self, RebuildCommand.self, DigestCommand.self, VerifyCommand.self,
            ExportCommand.self, TokenCommand.self,
        ]
    )
}
