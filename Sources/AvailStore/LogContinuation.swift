import AvailCore

/// Why an event copied from another log cannot continue this one (`EventStore.appendCopy`).
public struct LogCopyRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: Int64
    public var reason: String

    public init(position: Int64, reason: String) {
        self.position = position
        self.reason = reason
    }

    public var description: String { "position \(position): \(reason)" }
}

/// Checks, one event at a time, that events copied from another log continue this one exactly
/// as they stood there: the next position, the stream's next version, a dedupe key the log does
/// not hold yet, and a hash that chains from the previous one. Shared by every `EventStore`; the
/// store says what it already holds through the closures.
public struct LogContinuation: Sendable {
    private var position: Int64
    private var previousHash: [UInt8]
    private var versions: [StreamName: Int64] = [:]
    private var keys: Set<DedupeKey> = []

    /// `head`: the log's last position and hash before the copy (0 and the genesis hash when empty).
    public init(head: (position: Int64, hash: [UInt8])) {
        self.position = head.position
        self.previousHash = head.hash
    }

    /// Accepts `event` or throws why it does not continue the log. `storedVersion` answers the
    /// stream's last version in the log (0 for a new stream), `isStored` whether the log holds
    /// the event's dedupe key; each is asked at most once per stream or key.
    public mutating func accept(
        _ event: LogEvent, storedVersion: (StreamName) throws -> Int64, isStored: (DedupeKey) throws -> Bool
    ) throws {
        func refuse(_ reason: String) -> LogCopyRefusal { LogCopyRefusal(position: event.position, reason: reason) }
        guard event.position == position + 1 else {
            throw refuse(position == 0 ? "the log is empty, so a copy starts at position 1" : "the log's next position is \(position + 1)")
        }
        let stream = event.event.stream
        let expected = try (versions[stream] ?? storedVersion(stream)) + 1
        guard event.streamVersion == expected else {
            throw refuse("stream \(stream) version \(event.streamVersion), expected \(expected)")
        }
        guard !keys.contains(event.event.dedupeKey), try !isStored(event.event.dedupeKey) else {
            throw refuse("dedupe key \(event.event.dedupeKey.rawValue) is already in the log")
        }
        let hash = ChainHash.hash(previous: previousHash, position: event.position, streamVersion: expected, event: event.event)
        guard hash == event.hash else { throw refuse("hash does not match its contents and predecessor") }
        position = event.position
        previousHash = hash
        versions[stream] = expected
        keys.insert(event.event.dedupeKey)
    }
}
