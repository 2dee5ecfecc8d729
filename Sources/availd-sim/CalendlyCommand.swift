import ArgumentParser
import CalendlyStandIn
import Foundation
import Hummingbird
import Logging

/// Runs the Calendly stand-in on its own, for the demo or a manual try.
struct CalendlyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendly",
        abstract: "Serve a stand-in of Calendly's API v2 (users/me, event_types) on loopback.",
        discussion: "Point availd at it with --calendly-api http://127.0.0.1:PORT and one of the seed's tokens.")

    @Option(help: "The port (0 picks a free one).")
    var port = 8081

    @Option(help: "The seed: users, tokens and event types.")
    var state = "fixtures/calendly-api/state.json"

    func run() async throws {
        let seed = try StandInSeed.load(URL(fileURLWithPath: state))
        let app = CalendlyStandIn.buildApplication(seed: seed, port: port) { port in
            // Unbuffered, so a script reading a pipe sees it at once.
            FileHandle.standardOutput.write(Data("calendly stand-in listening on http://127.0.0.1:\(port)\n".utf8))
        }
        try await app.runService()
    }
}
