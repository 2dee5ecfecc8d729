import Foundation

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
