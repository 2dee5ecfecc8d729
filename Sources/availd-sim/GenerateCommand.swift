import ArgumentParser
import AvailCore
import AvailStore
import AvailWorkload
import Foundation

/// Writes a large, realistic log straight into a database, for the projection benchmarks.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Append generated Calendly histories (about 2 KB a delivery) to a database's log.",
        discussion: """
            The three fixture experts are created and connected first; then --deliveries deliveries \
            from bookings, cancellations, reschedule chains and no-shows, histories interleaved as \
            Calendly would deliver them. Nothing is projected: run availd rebuild (or serve) after.
            """)

    @Option(help: "The SQLite database to append to.")
    var database: String

    @Option(help: "How many deliveries to append (at least).")
    var deliveries = 1_000_000

    @Option(help: "Seed of the generated histories.")
    var seed: UInt64 = 1

    func run() async throws {
        let log = EventLog(database: try LogDatabase.open(path: database))
        var position = try await log.lastPosition()
        var experts: [NewEvent] = []
        for event in Corpus.experts.flatMap({ Corpus.setUp($0) }) {
            position += 1
            var logged = Corpus.event(event, position: position).event
            logged.dedupeKey = DedupeKey(rawValue: "cmd:generate-\(seed)-\(position)")
            experts.append(logged)
        }
        _ = try await log.append(experts)

        let started = ContinuousClock.now
        var appended = 0
        var round: UInt64 = 0
        while appended < deliveries {
            // Histories of one chunk are interleaved, so related deliveries are not adjacent.
            var random = SplitMix64(seed: seed &* 1_000_003 &+ round)
            var chunk = GeneratedCorpus.histories(seed: seed &* 1_000_003 &+ round, invitees: 2_000).flatMap { $0 }
            chunk.shuffle(using: &random)
            let events = try chunk.prefix(deliveries - appended).map {
                NewEvent(delivery: try Delivery(body: $0), signature: nil, receivedAt: .now())
            }
            appended += try await log.append(events).filter { !$0.isDuplicate }.count
            round += 1
        }
        let seconds = Double((ContinuousClock.now - started).components.seconds)
        print("generated \(appended) deliveries in \(Int(seconds)) s; log position \(try await log.lastPosition())")
    }
}
