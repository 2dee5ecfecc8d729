import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

/// The digest depends only on the set of deliveries. Folding any permutation,
/// with any number of repeated copies, must give the digest of folding them in order.
@Suite struct ConvergenceTests {
    static func digest(of bodies: [Data], experts: [ExpertEvent]) throws -> String {
        var projection = Projection()
        for (offset, event) in experts.enumerated() { projection.apply(Corpus.event(event, position: Int64(offset + 1))) }
        for event in try Corpus.events(bodies, startingAt: Int64(experts.count + 1)) { projection.apply(event) }
        return projection.digest
    }

    /// A permutation of `bodies` with some of them repeated, from `seed`.
    static func shuffledWithDuplicates(_ bodies: [Data], seed: UInt64) -> [Data] {
        var random = SplitMix64(seed: seed)
        var result = bodies
        for _ in 0..<Int(random.next() % UInt64(bodies.count / 4 + 1)) {
            result.append(bodies[Int(random.next() % UInt64(bodies.count))])
        }
        result.shuffle(using: &random)
        return result
    }

    static let experts = Corpus.experts.flatMap { Corpus.setUp($0) }

    @Test func fixturesAndSamplesConvergeOver200Permutations() throws {
        let bodies = try Corpus.fixtureBodies() + Corpus.sampleBodies()
        let expected = try Self.digest(of: bodies, experts: Self.experts)
        for seed in UInt64(1)...200 {
            let digest = try Self.digest(of: Self.shuffledWithDuplicates(bodies, seed: seed), experts: Self.experts)
            #expect(digest == expected, "permutation seed \(seed) gives another digest")
            if digest != expected { return }
        }
    }

    @Test(arguments: [UInt64(11), 12, 13, 14, 15])
    func generatedCorporaConverge(corpusSeed: UInt64) throws {
        let bodies = GeneratedCorpus.histories(seed: corpusSeed, invitees: 150).flatMap { $0 }
        let expected = try Self.digest(of: bodies, experts: Self.experts)
        for seed in UInt64(1)...40 {
            let permutationSeed = corpusSeed * 1000 + seed
            let digest = try Self.digest(of: Self.shuffledWithDuplicates(bodies, seed: permutationSeed), experts: Self.experts)
            #expect(digest == expected, "corpus seed \(corpusSeed), permutation seed \(permutationSeed) gives another digest")
            if digest != expected { return }
        }
    }

    @Test func expertsConnectingLateGiveTheSameState() throws {
        // Deliveries that matched nobody are assigned when their expert appears, so the order
        // of expert commands relative to deliveries does not matter either.
        let bodies = try Corpus.fixtureBodies()
        var late = Projection()
        for event in try Corpus.events(bodies) { late.apply(event) }
        #expect(late.appointments.allSatisfy { $0.expertID == nil })
        for (offset, event) in Self.experts.enumerated() {
            late.apply(Corpus.event(event, position: Int64(bodies.count + offset + 1)))
        }
        #expect(late.digest == (try Self.digest(of: bodies, experts: Self.experts)))
    }

    @Test func theDigestChangesWhenTheStateDoes() throws {
        let bodies = try Corpus.fixtureBodies()
        let all = try Self.digest(of: bodies, experts: Self.experts)
        let lessOne = try Self.digest(of: Array(bodies.dropLast(7)), experts: Self.experts)
        #expect(all != lessOne)
        #expect(all.count == 64)
    }
}
