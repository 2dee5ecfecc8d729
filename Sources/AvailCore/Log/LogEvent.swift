import Foundation

/// Who wrote an event into the log.
public enum EventSource: String, Sendable, Codable, CaseIterable {
    /// A webhook delivery from Calendly.
    case calendly
    /// One of availd's own commands (profile changes, connections, bookings).
    case api
    /// What reconciliation found at Calendly's API that the log did not say yet.
    case reconcile
}

/// What a caller asks the log to append; the log gives it a position, a stream version and a hash.
public struct NewEvent: Sendable, Equatable {
    public var stream: StreamName
    public var type: String
    public var source: EventSource
    public var recordedAt: Timestamp
    public var dedupeKey: DedupeKey
    public var body: Data
    /// The signature header exactly as received, for deliveries.
    public var signature: String?

    public init(
        stream: StreamName,
        type: String,
        source: EventSource,
        recordedAt: Timestamp,
        dedupeKey: DedupeKey,
        body: Data,
        signature: String? = nil
    ) {
        self.stream = stream
        self.type = type
        self.source = source
        self.recordedAt = recordedAt
        self.dedupeKey = dedupeKey
        self.body = body
        self.signature = signature
    }

    /// A verified Calendly delivery, as it will be logged.
    public init(delivery: Delivery, signature: String?, receivedAt: Timestamp) {
        self.init(
            stream: delivery.stream,
            type: delivery.event,
            source: .calendly,
            recordedAt: receivedAt,
            dedupeKey: delivery.dedupeKey,
            body: delivery.body,
            signature: signature
        )
    }
}

/// One entry of the append-only log.
public struct LogEvent: Sendable, Equatable {
    /// 1, 2, 3, … with no gaps: commit order.
    public var position: Int64
    /// 1, 2, 3, … within `stream`.
    public var streamVersion: Int64
    public var event: NewEvent
    /// SHA-256 over the previous entry's hash and this entry (see `ChainHash`).
    public var hash: [UInt8]

    public init(position: Int64, streamVersion: Int64, event: NewEvent, hash: [UInt8]) {
        self.position = position
        self.streamVersion = streamVersion
        self.event = event
        self.hash = hash
    }
}
