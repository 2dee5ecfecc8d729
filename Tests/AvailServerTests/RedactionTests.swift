import AvailServer
import Foundation
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

@Suite struct JSONLogHandlerTests {
    @Test func oneSortedObjectPerLineWithItsMetadataShaped() throws {
        let store = LineStore()
        var logger = Logger(label: "availd.test", factory: { label in
            JSONLogHandler(label: label) { line in store.lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) } }
        })
        logger.logLevel = .debug
        logger[metadataKey: "request"] = "r-1"
        logger.debug("delivery \"logged\"\nsecond line", metadata: ["position": "42", "nested": ["list": ["a", "b"]]])
        logger.trace("below the level")
        let lines = store.lines.withLock { $0 }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("}\n") && line.dropLast().allSatisfy { $0 != "\n" })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "debug")
        #expect(object["label"] as? String == "availd.test")
        #expect(object["message"] as? String == "delivery \"logged\"\nsecond line")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["request"] as? String == "r-1" && metadata["position"] as? String == "42")
        #expect((metadata["nested"] as? [String: Any])?["list"] as? [String] == ["a", "b"])
        #expect(line.hasPrefix("{\"label\":"), "keys sorted: \(line)")
        let timestamp = try #require(object["timestamp"] as? String)
        #expect(try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp).timeIntervalSinceNow > -60)
    }
}
