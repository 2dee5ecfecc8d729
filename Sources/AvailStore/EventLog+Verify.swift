import AvailCore
import GRDB

/// The result of checking the whole log.
public struct LogVerification: Sendable, Equatable {
    public var eventCount: Int64
    /// The last entry's hash, hex; the genesis hash for an empty log.
    public var headHash: String
    /// What is wrong, first problem first; empty when the log is intact.
    public var problems: [String]

    public var isIntact: Bool { problems.isEmpty }

    public init(eventCount: Int64, headHash: String, problems: [String]) {
        self.eventCount = eventCount
        self.headHash = headHash
        self.problems = problems
    }
}

/// Checks a log's events, fed in position order from the first: positions 1…N with no gaps,
/// per-stream versions 1…n, and every hash recomputed from its predecessor. Shared by every
/// `EventStore`; in constant memory but for one counter per stream.
public struct LogVerifier: Sendable {
    public let maximumProblems: Int
    private var expectedPosition: Int64 = 1
    private var previousHash = ChainHash.genesis
    private var versions: [StreamName: Int64] = [:]
    private var problems: [String] = []

    public init(maximumProblems: Int = 20) {
        self.maximumProblems = maximumProblems
    }

    /// Whether enough is wrong to stop reading.
    public var isFull: Bool { problems.count >= maximumProblems }

    public mutating func check(_ event: LogEvent) {
        guard !isFull else { return }
        if event.position != expectedPosition {
            problems.append("position \(expectedPosition) is missing (next is \(event.position))")
        }
        let stream = event.event.stream
        let expectedVersion = (versions[stream] ?? 0) + 1
        if event.streamVersion != expectedVersion {
            problems.append("position \(event.position): stream \(stream) version \(event.streamVersion), expected \(expectedVersion)")
        }
        versions[stream] = event.streamVersion
        let hash = ChainHash.hash(previous: previousHash, position: event.position, streamVersion: event.streamVersion, event: event.event)
        if hash != event.hash {
            problems.append("position \(event.position): hash does not match its contents and predecessor")
        }
        previousHash = event.hash
        expectedPosition = event.position + 1
    }

    /// A row that could not be read as an event.
    public mutating func unreadable(_ problem: String) {
        if !isFull { problems.append(problem) }
    }

    public var verification: LogVerification {
        LogVerification(eventCount: expectedPosition - 1, headHash: Hex.encode(previousHash), problems: problems)
    }
}

extension EventLog {
    /// Walks the log (`LogVerifier`) up to the last position when it starts. It reads in
    /// chunks, each its own short read transaction (what it reads never changes: the log is
    /// append-only), so beside a running daemon it never holds the WAL back from being
    /// checkpointed.
    public func verify(maximumProblems: Int, progress: (_ done: Int64, _ total: Int64) -> Void) async throws -> LogVerification {
        let head = try await lastPosition()
        var verifier = LogVerifier(maximumProblems: maximumProblems)
        var after: Int64 = 0
        while after < head, !verifier.isFull {
            let start = after
            let rows = try await database.read { db in try Self.verifiedRows(db, after: start, through: head) }
            guard let last = rows.last?.position else { break }
            after = last
            verifier.check(rows)
            progress(last, head)
        }
        return verifier.verification
    }

    /// Up to 4,096 rows after `start` and up to `head`, each an event or why it is unreadable.
    static func verifiedRows(_ db: Database, after start: Int64, through head: Int64) throws -> [VerifiedRow] {
        let statement = try db.cachedStatement(
            sql: "SELECT \(LogEvent.columns) FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT 4096")
        try statement.setArguments([start, head])
        var rows: [VerifiedRow] = []
        try LogEvent.forEach(statement, db) { position, event in rows.append(VerifiedRow(position: position, event: event)) }
        return rows
    }

    /// Walks the whole log in `db` (one read, for a file nothing else writes: a backup's copy).
    static func verify(_ db: Database) throws -> LogVerification {
        let head = try Int64.fetchOne(db, sql: "SELECT max(position) FROM events") ?? 0
        var verifier = LogVerifier()
        var after: Int64 = 0
        while after < head, !verifier.isFull {
            let rows = try verifiedRows(db, after: after, through: head)
            guard let last = rows.last?.position else { break }
            after = last
            verifier.check(rows)
        }
        return verifier.verification
    }
}

/// A row of the events table as `verify` reads it.
struct VerifiedRow: Sendable {
    var position: Int64
    var event: Result<LogEvent, DatabaseError>
}

extension LogVerifier {
    mutating func check(_ rows: [VerifiedRow]) {
        for row in rows {
            switch row.event {
            case .success(let event): check(event)
            case .failure(let error): unreadable("\(error)")
            }
        }
    }
}
