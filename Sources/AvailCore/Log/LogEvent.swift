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
