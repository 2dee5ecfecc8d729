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
}

extension EventLog {
    /// Walks the log: positions 1…N with no gaps, per-stream versions 1…n, and every hash
    /// recomputed from its predecessor, up to the last position when it starts. It reads in
    /// chunks, each its own short read transaction (what it reads never changes: the log is
    /// append-only), so beside a running daemon it never holds the WAL back from being
    /// checkpointed; in constant memory but for one counter per stream.
    public func verify(maximumProblems: Int = 20) async throws -> LogVerification {
        let head = try await lastPosition()
        var expectedPosition: Int64 = 1
        var previousHash = ChainHash.genesis
        var versions: [StreamName: Int64] = [:]
        var problems: [String] = []
        var after: Int64 = 0
        while after < head, problems.count < maximumProblems {
            let start = after
            let rows = try await database.read { db in
                let statement = try db.cachedStatement(
                    sql: "SELECT \(LogEvent.columns) FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT 4096")
                try statement.setArguments([start, head])
                var rows: [(position: Int64, event: LogEvent?, problem: String?)] = []
                try LogEvent.forEach(statement, db) { position, event in
                    switch event {
                    case .success(let event): rows.append((position, event, nil))
                    case .failure(let error): rows.append((position, nil, "\(error)"))
                    }
                }
                return rows
            }
            guard let last = rows.last?.position else { break }
            after = last
            for read in rows where problems.count < maximumProblems {
                guard let event = read.event else {
                    problems.append(read.problem ?? "position \(read.position) is unreadable")
                    continue
                }
                if event.position != expectedPosition {
                    problems.append("position \(expectedPosition) is missing (next is \(event.position))")
                }
                let stream = event.event.stream
                let expectedVersion = (versions[stream] ?? 0) + 1
                if event.streamVersion != expectedVersion {
                    problems.append("position \(event.position): stream \(stream) version \(event.streamVersion), expected \(expectedVersion)")
                }
                versions[stream] = event.streamVersion
                let hash = ChainHash.hash(
                    previous: previousHash, position: event.position, streamVersion: event.streamVersion, event: event.event)
                if hash != event.hash {
                    problems.append("position \(event.position): hash does not match its contents and predecessor")
                }
                previousHash = event.hash
                expectedPosition = event.position + 1
            }
        }
        return LogVerification(eventCount: expectedPosition - 1, headHash: Hex.encode(previousHash), problems: problems)
    }
}
