import ArgumentParser
import AvailCore
import AvailStore
import Foundation

/// Times the two halves of `availd rebuild`: the in-memory fold, and writing the read models.
struct RebuildBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-bench", abstract: "Fold a database's log and write its read models, timing each part.")

    @Option(help: "The SQLite database (see `generate`).")
    var database: String

    func run() async throws {
        let writer = try LogDatabase.open(path: database)
        let log = EventLog(database: writer)
        let readModels = ReadModels(database: writer)
        let clock = ContinuousClock()
        var projection = Projection()
        let fold = try await clock.measure { projection = try await log.fold() }
        var digest = ""
        let write = try await clock.measure { digest = try await readModels.replace(with: projection) }
        let events = Double(projection.position)
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        let all = projection.appointments
        let appointments = all.count
        let perExpert = Dictionary(grouping: all, by: { $0.expertID ?? "(none)" }).mapValues(\.count)
            .sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("""
            availd-sim rebuild-bench: \(projection.position) events, \(appointments) appointments, \(projection.parked.count) parked
              fold (read log + decode + fold, in memory)  \(String(format: "%.1f", seconds(fold))) s  \(Int(events / seconds(fold))) events/s
              write read models (a new generation)         \(String(format: "%.1f", seconds(write))) s
              rebuild total                                \(String(format: "%.1f", seconds(fold + write))) s  \(Int(events / seconds(fold + write))) events/s
              appointments per expert: \(perExpert)
              digest \(digest)
            """)
    }
}
