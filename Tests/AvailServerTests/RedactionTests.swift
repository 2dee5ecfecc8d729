import AvailServer
import Logging
import Synchronization
import Testing

@Suite struct RedactionTests {
    let redactor = Redactor(secrets: ["signing-key-123456", "admin-token-abcdef", "short"])

    @Test(arguments: [
        ("key signing-key-123456 and admin-token-abcdef", "key [redacted] and [redacted]"),
        ("Authorization: Bearer abc.def-ghi rest", "Authorization: Bearer [redacted] rest"),
        ("token availd_abcdefghijklmnopqrstuvwxyz_ABC-_x tail", "token availd_[redacted] tail"),
        ("short stays", "short stays"),
        ("no personal data here", "no personal data here"),
        ("a@b is not an address; neither is @example.org", "a@b is not an address; neither is @example.org"),
    ])
    func secretsAndTokensAreHidden(input: String, expected: String) {
        #expect(redactor.redact(input) == expected)
    }

    @Test func emailsBecomeAStableHash() {
        let once = redactor.redact("from Iris.Invitee+x@Example.org.")
        let twice = redactor.redact("path=/experts/iris.invitee+x@example.org/appointments")
        #expect(!once.contains("@") && !twice.contains("@"))
        let hash = try? #require(once.split(separator: " ").last.map { String($0.dropLast()) })
        #expect(hash?.hasPrefix("email:") == true && hash?.count == 6 + 16)
        // The same address, whatever its case, gives the same hash; the path around it stays.
        #expect(twice == "path=/experts/\(hash ?? "")/appointments")
    }

    @Test func theHandlerRedactsMessagesAndMetadata() {
        let store = LineStore()
        let redactor = self.redactor
        var logger = Logger(label: "t", factory: { _ in RedactingLogHandler(CapturingLogHandler(store: store), redactor: redactor) })
        logger[metadataKey: "who"] = "ada@experts.example"
        logger.info("booked for iris@example.org", metadata: [
            "header": "Bearer admin-token-abcdef",
            "nested": ["list": ["x signing-key-123456"]],
        ])
        let line = store.lines.withLock { $0.joined(separator: "\n") }
        #expect(line.contains("booked for email:"))
        #expect(!line.contains("@"))
        #expect(!line.contains("admin-token-abcdef") && !line.contains("signing-key-123456"))
        #expect(line.contains("[redacted]"))
    }
}

final class LineStore: Sendable {
    let lines = Mutex<[String]>([])
}

/// Keeps each line it is given, message and metadata, as text.
struct CapturingLogHandler: LogHandler {
    let store: LineStore
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        store.lines.withLock { $0.append("\(event.message) \(all)") }
    }
}
