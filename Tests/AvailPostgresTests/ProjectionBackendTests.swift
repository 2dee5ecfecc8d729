import AvailCore
import AvailStore
import AvailTesting
import AvailWorkload
import Foundation
import PostgresNIO
import Testing

@testable import AvailPostgres

extension Backend {
    /// A log and its read models, both in this backend.
    func withReadModels<T: Sendable>(
        _ body: @Sendable (_ log: any EventStore, _ readModels: any ProjectionTarget) async throws -> T
    ) async throws -> T {
        switch self {
        case .sqlite:
            let database = try LogDatabase.open(path: LogDatabase.inMemory)
            return try await body(EventLog(database: database), ReadModels(database: database))
        case .postgres:
            return try await AvailPostgresDatabase.withDatabase(url: try TestPostgres.server().newDatabase(), logger: Self.logger) {
                try await body(PostgresEventLog(database: $0), PostgresReadModels(database: $0))
            }
        }
    }
}

/// The projector's read models, written batch by batch, are the same in both backends, and
/// both answer every question the daemon asks alike.
@Suite struct ProjectionBackendTests {
    /// The experts, then `bodies`, appended to `log` as the daemon would.
    static func fill(_ log: any EventStore, _ bodies: [Data], experts: [ExpertEvent] = Corpus.experts.flatMap { Corpus.setUp($0) })
        async throws
    {
        var events = experts.enumerated().map { offset, expert in Corpus.event(expert, position: Int64(offset + 1)).event }
        // One receipt time for every event, so both backends' logs are the same events.
        let received = Timestamp(rfc3339: "2026-11-30T12:00:00Z")!
        events += try bodies.map { NewEvent(delivery: try Delivery(body: $0), signature: nil, receivedAt: received) }
        for chunk in events.chunked(500) { _ = try await log.append(Array(chunk)) }
    }

    /// Applies the log in batches of random sizes (1 to 17), as the projector does.
    static func catchUp(_ readModels: any ProjectionTarget, _ log: any EventStore, seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        var checkpoint = try await readModels.checkpoint()
        let head = try await log.lastPosition()
        while checkpoint < head {
            // One batch: the first that reaches past the checkpoint.
            checkpoint = try await readModels.catchUp(with: log, batchSize: 1 + Int(random.next() % 17), through: checkpoint + 1)
        }
    }

    /// The fixtures, the samples and generated histories (every seventh delivery lost, so
    /// some reschedules name an invitee never described), shuffled.
    static func bodies(seed: UInt64, invitees: Int = 150) throws -> [Data] {
        var bodies = try Corpus.fixtureBodies() + Corpus.sampleBodies()
        let generated = GeneratedCorpus.histories(seed: seed, invitees: invitees).flatMap { $0 }
        bodies += generated.enumerated().filter { $0.offset % 7 != 3 }.map(\.element)
        bodies.append(Data(#"{"event":"invitee.canceled","created_at":"2026-11-20T10:00:00.000000Z","payload":{"uri":""}}"#.utf8))
        var random = SplitMix64(seed: seed)
        bodies.shuffle(using: &random)
        return bodies
    }

    /// Everything the daemon can ask, asked of `readModels` about what `projection` holds, as
    /// lines per question (in a fixed order): compared between the backends line for line.
    struct Answers: Equatable {
        var lines: [String: [String]] = [:]

        init(_ readModels: any ReadModelQueries, _ projection: Projection) async throws {
            func add(_ question: String, _ answer: some Any) { lines[question, default: []].append("\(answer)") }
            add("checkpoint", try await readModels.checkpoint())
            for (id, expert) in try await readModels.experts().sorted(by: { $0.key < $1.key }) { add("experts", "\(id) \(expert)") }
            for id in ["ada", "nobody"] { add("expert", try await readModels.expert(id: id) as Any) }
            let ids = projection.appointments.map(\.id).sorted() + ["calendly-nope"]
            for id in ids {
                add("appointment", try await readModels.appointment(id: id) as Any)
                add("eventTypeURI", try await readModels.eventTypeURI(ofAppointment: id) as Any)
            }
            let window = TimeRange(start: Timestamp(rfc3339: "2020-01-01T00:00:00Z")!, end: Timestamp(rfc3339: "2030-01-01T00:00:00Z")!)
            let narrow = TimeRange(start: Timestamp(rfc3339: "2026-11-20T00:00:00Z")!, end: Timestamp(rfc3339: "2026-12-20T00:00:00Z")!)
            for expert in projection.state.experts.keys.sorted() {
                for status in [nil, AppointmentStatus.scheduled, .canceled] {
                    for (from, to) in [(nil, nil), (narrow.start, narrow.end)] as [(Timestamp?, Timestamp?)] {
                        var query = AppointmentQuery(expertID: expert, status: status, from: from, to: to, limit: 4)
                        while true {
                            let page = try await readModels.appointments(query)
                            add("appointments", "\(expert) \(String(describing: status)) \(page.appointments.map(\.id)) \(String(describing: page.next))")
                            guard let next = page.next else { break }
                            query.after = next
                        }
                    }
                }
                let first = projection.appointments.filter { $0.expertID == expert }.map(\.id).sorted().first
                for range in [window, narrow] {
                    add("busyTimes", "\(expert) \(try await readModels.busyTimes(expertID: expert, overlapping: range))")
                    add("busyTimes", "\(expert) \(try await readModels.busyTimes(expertID: expert, overlapping: range, excluding: first))")
                }
            }
            for parked in try await readModels.parked(after: 0, limit: 10_000) { add("parked", parked) }
            let uris = Set(projection.state.facts.keys).union(["https://api.calendly.com/none"])
            for (uri, facts) in try await readModels.facts(of: uris).sorted(by: { $0.key < $1.key }) { add("facts", "\(uri) \(facts)") }
            let events = Set(projection.appointments.compactMap(\.externalCalendarEventID)).union(["no-such-event"])
            for (event, count) in try await readModels.inviteeCounts(ofScheduledEvents: events).sorted(by: { $0.key < $1.key }) {
                add("inviteeCounts", "\(event) \(count.total) \(count.active)")
            }
            for (id, origin) in try await readModels.rescheduleOrigins(of: ids).sorted(by: { $0.key < $1.key }) {
                add("rescheduleOrigins", "\(id) \(origin)")
            }
        }

        /// The first line of each question where `self` and `other` differ.
        func differences(from other: Answers) -> [String] {
            Set(lines.keys).union(other.lines.keys).sorted().compactMap { question -> String? in
                let mine = lines[question] ?? [], theirs = other.lines[question] ?? []
                guard mine != theirs else { return nil }
                guard let index = zip(mine, theirs).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else {
                    return "\(question): \(mine.count) lines against \(theirs.count)"
                }
                return "\(question) line \(index):\n  \(mine[index])\n  \(theirs[index])"
            }
        }
    }

    @Test(arguments: [UInt64(1), 2])
    func batchesOfAnySizeGiveTheFoldsReadModelsAndAnswersInBothBackends(seed: UInt64) async throws {
        let bodies = try Self.bodies(seed: seed)
        var answers: [Answers] = []
        for backend in Backend.allCases {
            answers.append(try await backend.withReadModels { log, readModels in
                try await Self.fill(log, bodies)
                try await Self.catchUp(readModels, log, seed: seed)
                let fold = try await log.fold()
                #expect(fold.appointments.count > 100)
                #expect(fold.appointments.contains { $0.rescheduledFrom != nil }, "reschedule chains")
                #expect(!fold.parked.isEmpty, "some deliveries park")
                let answers = try await Answers(readModels, fold)
                #expect(answers.lines["checkpoint"] == ["\(fold.position)"])
                if let readModels = readModels as? PostgresReadModels {
                    #expect(try await readModels.digest().digest == fold.digest, "\(backend)")
                    // What is not part of the digest (the host index, facts of invitees not
                    // described yet, the facts each appointment keeps) equals what a rebuild writes.
                    let incremental = try await readModels.indexAndFacts()
                    #expect(incremental.count > 100)
                    try await readModels.replace(with: fold)
                    #expect(try await readModels.indexAndFacts() == incremental)
                    let rebuilt = try await Answers(readModels, fold)
                    #expect(rebuilt.differences(from: answers) == [], "a rebuild answers as the projector's batches do")
                } else if let readModels = readModels as? ReadModels {
                    #expect(try await readModels.digest().digest == fold.digest, "\(backend)")
                }
                return answers
            })
        }
        #expect(answers[0].differences(from: answers[1]) == [])
        #expect(answers[0].lines["appointments"]!.count > 20, "several pages")
        #expect(answers[0].lines["rescheduleOrigins"]!.contains { !$0.hasSuffix("hops: 0)") }, "chains followed back")
    }

    @Test(arguments: Backend.allCases)
    func expertsArrivingAfterTheirAppointmentsClaimThem(backend: Backend) async throws {
        try await backend.withReadModels { log, readModels in
            try await Self.fill(log, try Corpus.fixtureBodies(), experts: [])
            var next = try await log.lastPosition()
            var experts: [NewEvent] = []
            for event in Corpus.experts.flatMap({ Corpus.setUp($0) }) {
                next += 1
                experts.append(Corpus.event(event, position: next).event)
            }
            _ = try await log.append(experts)
            try await Self.catchUp(readModels, log, seed: 7)
            let ada = try await readModels.appointments(AppointmentQuery(expertID: "ada", limit: 1000))
            #expect(ada.appointments.count == 11)
            #expect(ada.appointments.allSatisfy { $0.expertID == "ada" }, "the stored appointment names its new expert")
            let fold = try await log.fold()
            for appointment in fold.appointments {
                #expect(try await readModels.appointment(id: appointment.id) == appointment)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func aBatchThatDoesNotStartAtTheCheckpointIsRefused(backend: Backend) async throws {
        try await backend.withReadModels { log, readModels in
            try await Self.fill(log, (0..<4).map { GeneratedCorpus.hosts[0].invitee(index: $0, seed: "stale") }, experts: [])
            try await readModels.catchUp(with: log)
            let events = try await log.events(after: 0, limit: 2)
            guard case .stale(let checkpoint) = try await readModels.apply(events.map(PreparedEvent.init), after: 0, experts: ExpertCache())
            else { Issue.record("a stale batch was applied"); return }
            #expect(checkpoint == 4)
            #expect(try await readModels.checkpoint() == 4)
        }
    }

    @Test func aRebuildInPlaceIsSeenAsAMovedCheckpoint() async throws {
        try await Backend.postgres.withReadModels { log, readModels in
            try await Self.fill(log, try Corpus.fixtureBodies())
            let events = try await log.events(after: 0, limit: 5)
            guard case .applied(let position, let experts, _, _) = try await readModels.apply(
                events.map(PreparedEvent.init), after: 0, experts: ExpertCache())
            else { Issue.record("stale"); return }
            // A rebuild (`availd rebuild` beside the daemon) replaces the read models meanwhile.
            let fold = try await log.fold()
            try await (readModels as! PostgresReadModels).replace(with: fold)
            let more = try await log.events(after: position, limit: 5)
            guard case .stale(let found) = try await readModels.apply(more.map(PreparedEvent.init), after: position, experts: experts)
            else { Issue.record("a batch was applied over a rebuild"); return }
            #expect(found == fold.position)
            #expect(try await (readModels as! PostgresReadModels).digest().digest == fold.digest)
            #expect(readModels.heldForProjector() is PostgresReadModels)
            #expect(try await readModels.adoptRebuilt(catchingUpWith: log, through: fold.position) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func parkedEventsAreKeptWithTheirReason(backend: Backend) async throws {
        try await backend.withReadModels { log, readModels in
            let broken = Data(#"{"event":"invitee.canceled","created_at":"2026-11-20T10:00:00.000000Z","payload":{"uri":""}}"#.utf8)
            try await Self.fill(log, [broken, GeneratedCorpus.hosts[0].invitee(index: 1, seed: "parked")], experts: [])
            try await readModels.catchUp(with: log)
            let parked = try await readModels.parked()
            #expect(parked.map(\.position) == [1])
            #expect(parked.first?.reason == "payload.uri is missing")
            #expect(try await readModels.checkpoint() == 2)
        }
    }
}

extension PostgresReadModels {
    /// The host index, the facts of invitees not described yet and those appointments keep.
    func indexAndFacts() async throws -> [String] {
        var lines: [String] = []
        for statement: PostgresQuery in [
            "SELECT host_key || ' ' || appointment_id FROM appointment_hosts ORDER BY 1",
            "SELECT invitee_uri || ' ' || encode(facts, 'hex') FROM invitee_facts ORDER BY 1",
            "SELECT id || ' ' || encode(facts, 'hex') || ' ' || coalesce(rescheduled_from, '-') FROM appointments ORDER BY 1",
        ] {
            for row in try await database.query(statement) { lines.append(try row.decode(String.self)) }
        }
        return lines
    }
}
