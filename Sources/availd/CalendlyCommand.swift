import ArgumentParser

/// `availd calendly …`: availd's side of Calendly from the command line, beside a running
/// daemon or without one. Each subcommand is in its own file.
struct CalendlyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendly", abstract: "Calendly webhook subscriptions of the organization token, and what availd knows of them.",
        subcommands: [CalendlySubscribeCommand.self, CalendlySubscriptionsCommand.self])
}

/// A command that could not do its work: `availd` prints `Error: …` and exits 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}
