import ArgumentParser

/// `availd calendly …`: availd's side of Calendly from the command line, beside a running
/// daemon or without one. Each subcommand is in its own file.
struct CalendlyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendly", abstract: "Calendly from the command line: the organization token's webhook subscription, every subscription's state, and reconciliation.",
        subcommands: [CalendlySubscribeCommand.self, CalendlySubscriptionsCommand.self, CalendlyReconcileCommand.self])
}

/// A command that could not do its work: `availd` prints `Error: …` and exits 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}
