import Foundation
import Logging
import Synchronization

/// One JSON object per line on standard error, for log shippers (`AVAILD_LOG_FORMAT=json`):
/// `{"label":…,"level":…,"message":…,"metadata":{…},"source":…,"timestamp":…}`, keys sorted,
/// the timestamp RFC 3339 in UTC with milliseconds. Metadata keeps its shape (strings, arrays,
/// objects). It sits under `RedactingLogHandler` like the plain handler does, so what it
/// writes is already redacted.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable (Data) -> Void

    public init(label: String, write: @escaping @Sendable (Data) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: Logging.LogEvent) {
        var object: [String: Any] = [
            "timestamp": Self.timestamp(Date()),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
            "source": event.source,
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty { object["metadata"] = merged.mapValues(Self.value) }
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        line.append(UInt8(ascii: "\n"))
        write(line)
    }

    private static func value(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(Self.value)
        case .dictionary(let values): values.mapValues(Self.value)
        }
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(timestampStyle)
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Whole lines to standard error, one at a time across threads.
    public static let standardError: @Sendable (Data) -> Void = { line in
        standardErrorLock.withLock { _ in FileHandle.standardError.write(line) }
    }

    private static let standardErrorLock = Mutex(())
}
