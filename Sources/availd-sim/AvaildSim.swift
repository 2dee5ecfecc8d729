import ArgumentParser

@main
struct AvaildSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "availd-sim",
        abstract: "Stands in for Calendly: sends signed webhook deliveries to availd like Calendly does.",
        subcommands: [LoadCommand.self, CalendlyCommand.self, GenerateCommand.self, RebuildBenchCommand.self, ProbeCommand.self, AppendBenchCommand.self]
    )
}
