import AvailCore
import Foundation

/// One log entry as `GET /events` and `availd export` show it: everything the log stores, so
/// that `availd import` makes the same log from it, hash for hash.
public struct EventItem: Codable, Sendable, Equatable {
    public var position: Int64
    public var type: String
    public var source: String
    public var recordedAt: String
    /// The raw body, as text.
    public var body: String
    public var stream: String
    public var streamVersion: Int64
    public var dedupeKey: String
    /// The signature header exactly as received (deliveries only).
    public var signature: String?
    /// The hash chaining the entry to its predecessor, lowercase hex.
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case position, type, source, body, stream, signature, hash
        case recordedAt = "recorded_at"
        case streamVersion = "stream_version"
        case dedupeKey = "dedupe_key"
    }

    public init(_ event: LogEvent) {
        self.position = event.position
        self.type = event.event.type
        self.source = event.event.source.rawValue
        self.recordedAt = event.event.recordedAt.description
        self.body = String(decoding: event.event.body, as: UTF8.self)
        self.stream = event.event.stream.description
        self.streamVersion = event.streamVersion
        self.dedupeKey = event.event.dedupeKey.rawValue
        self.signature = event.event.signature
        self.hash = Hex.encode(event.hash)
    }

    /// One line of `availd export`: sorted keys, no trailing newline.
    public func jsonLine() throws -> Data {
        try JSONEncoder.canonical().encode(self)
    }

    /// The log entry this item shows; throws for a field the log could not hold.
    public func logEvent() throws -> LogEvent {
        func invalid(_ field: String) -> Unreadable { Unreadable(description: "position \(position): \(field) is not valid") }
        guard let stream = StreamName(stream) else { throw invalid("stream") }
        guard let source = EventSource(rawValue: source) else { throw invalid("source") }
        guard let recordedAt = Timestamp(rfc3339: recordedAt) else { throw invalid("recorded_at") }
        guard let hash = Hex.decode(hash), hash.count == 32 else { throw invalid("hash") }
        return LogEvent(
            position: position, streamVersion: streamVersion,
            event: NewEvent(
                stream: stream, type: type, source: source, recordedAt: recordedAt,
                dedupeKey: DedupeKey(rawValue: dedupeKey), body: Data(body.utf8), signature: signature),
            hash: hash)
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }
}
