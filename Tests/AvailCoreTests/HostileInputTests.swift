import AvailCore
import AvailFuzzing
import AvailTesting
import AvailWorkload
import Foundation
import Testing

/// The fuzzer's properties (`HostileInput`) over a few thousand seeded mutations of the
/// fixtures on every `swift test`, so they are checked without libFuzzer too; and every input
/// the fuzzer once failed on (`fuzz/regressions/`) passes them now.
@Suite struct HostileInputTests {
    static let seed: UInt64 = 5

    static func bodies() throws -> [[UInt8]] {
        let invalid = TestPaths.jsonFiles(in: TestPaths.fixtures.appendingPathComponent("invalid"))
        return try (Corpus.fixtureBodies() + Corpus.sampleBodies() + invalid.map { try Data(contentsOf: $0) }).map { Array($0) }
    }

    static func headers() throws -> [[UInt8]] {
        let signed = try bodies().prefix(20).enumerated().map { index, body in
            WebhookSignature.sign(body, key: "whsec_\(index)", timestamp: 1_795_000_000 + Int64(index)).headerValue
        }
        return (signed + [" t=5 , v0=zzz, v1=\(String(repeating: "ab", count: 32)),v1=\(String(repeating: "CD", count: 32)) "])
            .map { Array($0.utf8) }
    }

    static func facts() throws -> [[UInt8]] {
        var projection = Projection()
        for event in try Corpus.events(try Corpus.fixtureBodies()) { projection.apply(event) }
        return projection.state.facts.values.sorted { $0.inviteeURI < $1.inviteeURI }.prefix(40).map { $0.compact() }
    }

    /// Runs `rounds` mutations of `seeds` through `target`'s properties; records the first failure.
    func fuzz(_ target: HostileInput.Target, _ seeds: [[UInt8]], rounds: Int) {
        var mutator = Mutator(seed: Self.seed &+ UInt64(target.rawValue), seeds: seeds)
        for round in 0..<rounds {
            let input = mutator.next()
            do {
                try HostileInput.check(target, input[...])
            } catch {
                let text = String(decoding: input, as: UTF8.self)
                Issue.record("round \(round) of seed \(Self.seed): \(error)\ninput: \(text.debugDescription)")
                return
            }
        }
    }

    @Test func signatureHeaders() throws {
        fuzz(.signatureHeader, try Self.headers(), rounds: 4000)
    }

    @Test func signedDeliveries() throws {
        var random = SplitMix64(seed: Self.seed)
        let bodies = try Self.bodies()
        for round in 0..<400 {
            let prefix = (0..<(1 + Int(random.next() % 48) + 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let input = prefix + bodies[Int(random.next() % UInt64(bodies.count))].prefix(Int(random.next() % 600))
            do {
                try HostileInput.check(.signedDelivery, input[...])
            } catch {
                Issue.record("round \(round) of seed \(Self.seed): \(error)")
                return
            }
        }
    }

    @Test func deliveryBodies() throws {
        fuzz(.deliveryBody, try Self.bodies(), rounds: 3000)
    }

    @Test func storedFacts() throws {
        fuzz(.storedFacts, try Self.facts(), rounds: 2000)
    }

    /// The mutator produces what the properties are about: most inputs are not a delivery, and
    /// some are (so the deep properties run too).
    @Test func mutationsReachEveryOutcome() throws {
        var mutator = Mutator(seed: Self.seed, seeds: try Self.bodies())
        let accepted = (0..<600).filter { _ in (try? Delivery(body: Data(mutator.next()))) != nil }.count
        #expect(accepted > 100 && accepted < 500, "\(accepted) of 600 accepted")
    }

    @Test func everySavedRegressionPasses() throws {
        let folder = TestPaths.repository.appendingPathComponent("fuzz/regressions")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(!names.isEmpty)
        for name in names {
            let input = try Data(contentsOf: folder.appendingPathComponent(name))
            #expect(throws: Never.self, "\(name)") { try HostileInput.check(Array(input)) }
        }
    }
}

/// Seeded byte-level mutations in the manner of libFuzzer's: flips, JSON tokens, cuts,
/// copies (which repeat keys), splices of two seeds.
struct Mutator {
    static let tokens: [[UInt8]] = [
        "{", "}", "[", "]", ":", ",", "\"", "\\", "\\u00e9", "\\ud800", "\\u0000", "true", "null", "-1.5e3", " ", "\r\n",
        "\u{FEFF}", "\u{301}", "\u{200D}", "\"event\":", "\"payload\":", "\"uri\":", "\"invitee\":", "\"created_at\":",
        "\"invitee.created\"", "\"invitee.canceled\"", "/invitees/", "\"start_time\":", "2026-03-02T15:04:05Z",
        "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "+23:59", "-23:59", "t=", "v1=", ",",
    ].map { Array($0.utf8) } + [[0x00], [0xFF], [0xC3]]

    var random: SplitMix64
    let seeds: [[UInt8]]

    init(seed: UInt64, seeds: [[UInt8]]) {
        self.random = SplitMix64(seed: seed)
        self.seeds = seeds
    }

    private mutating func below(_ bound: Int) -> Int {
        bound <= 0 ? 0 : Int(random.next() % UInt64(bound))
    }

    /// A seed with one to four mutations.
    mutating func next() -> [UInt8] {
        var bytes = seeds[below(seeds.count)]
        for _ in 0...below(4) {
            let at = below(bytes.count + 1)
            switch below(7) {
            case 0 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] ^= UInt8(1 << below(8))
            case 1:
                bytes.insert(contentsOf: Self.tokens[below(Self.tokens.count)], at: at)
            case 2:
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(16)))
            case 3:
                let start = below(bytes.count)
                let chunk = Array(bytes[start..<min(bytes.count, start + 1 + below(200))])
                bytes.insert(contentsOf: chunk, at: below(bytes.count + 1))
            case 4:
                let other = seeds[below(seeds.count)]
                bytes = Array(bytes.prefix(at)) + other.suffix(below(other.count + 1))
            case 5:
                bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: 1 + below(3)), at: at)
            default:
                if !bytes.isEmpty { bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: random.next()) }
            }
        }
        return bytes
    }
}
