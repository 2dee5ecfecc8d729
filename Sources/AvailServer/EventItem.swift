import AvailCore
import Foundation

/// One log entry as `GET /events` and `availd export` show it.
public struct EventItem: Codable, Sendable, Equatable {
    public var position: Int64
    public var type: String
    public var source: String
    public var recordedAt: String
    /// The raw body, as text.
    public var body: String

    enum CodingKeys: String, CodingKey {
        case position, type, source, body
        case recordedAt = "recorded_at"
    }

    public init(_ event: LogEvent) {
        self.position = event.position
        self.type = event.event.type
        self.source = event.event.source.rawValue
        self.recordedAt = event.event.recordedAt.description
        self.body = String(decoding: event.event.body, as: UTF8.self)
    }

    /// One line of `availd export`: sorted keys, no trailing newline.
    public func jsonLine() throws -> Data {
        try JSONEncoder.canonical().encode(self)
    }
}
