import AvailCore
import AvailStore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

@testable import AvailPostgres

/// The read models a rebuild writes are the same in either backend: the digest of what was
/// written, and of what is read back, is the fold's.
@Suite struct ReadModelBackendTests {
    @Test func aRebuildWritesTheSameReadModelsInBothBackends() async throws {
        // The fixtures and samples, then generated histories: bookings, cancellations,
        // reschedule chains, no-shows, interleaved as Calendly delivers them.
        var bodies = try Corpus.fixtureBodies() + Corpus.sampleBodies()
        // Every seventh generated delivery lost, so some reschedules name an invitee whose own
        // delivery never came (facts of an invitee not described yet).
        let generated = GeneratedCorpus.histories(seed: 7, invitees: 1_500).flatMap { $0 }
        bodies += generated.enumerated().filter { $0.offset % 7 != 3 }.map(\.element)
        var folded = Projection()
        for event in try Corpus.events(bodies) { folded.apply(event) }
        let projection = folded
        #expect(projection.appointments.count > 1_000)
        #expect(projection.state.facts.values.contains { $0.snapshot == nil }, "some invitees only named so far")

        let sqlite = try LogDatabase.open(path: LogDatabase.inMemory).readModels
        #expect(try await sqlite.replace(with: projection) == projection.digest)
        try await AvailPostgresDatabase.withDatabase(url: try TestPostgres.server().newDatabase(), logger: Backend.logger) { database in
            let readModels = PostgresReadModels(database: database)
            #expect(try await readModels.replace(with: projection) == projection.digest)
            let read = try await readModels.digest()
            #expect(read.position == projection.position && read.digest == projection.digest)
            // Again over the first: a rebuild replaces, it does not add.
            #expect(try await readModels.replace(with: projection) == projection.digest)
            #expect(try await readModels.digest().digest == projection.digest)
        }
        #expect(try await sqlite.digest().digest == projection.digest)
    }
}
