import AvailCore
import AvailTesting
import Foundation
import Testing

@Suite struct DeliveryTests {
    /// Every body Calendly published or a real integration captured is a usable delivery.
    @Test(arguments: TestPaths.jsonFiles(in: TestPaths.calendlySamples).map(\.lastPathComponent))
    func acceptsEveryCalendlySample(name: String) throws {
        let body = try Data(contentsOf: TestPaths.calendlySamples.appendingPathComponent(name))
        let delivery = try Delivery(body: body)
        let json = try #require(JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(delivery.event == json["event"] as? String)
        #expect(delivery.createdAt == json["created_at"] as? String)
        #expect(delivery.payloadURI == (json["payload"] as? [String: Any])?["uri"] as? String)
        #expect(delivery.body == body)
    }

    /// SQLite text cannot hold U+0000: a name carrying one would be cut short in the read models.
    @Test(arguments: [
        (#"{"event":"invitee.created","payload":{"name":"Ada\u0000Lovelace"}}"#, false),
        (#"{"event":"invitee.created","payload":{"name":"x","q":["\u0000"]}}"#, false),
        (#"{"event":"invitee.created","payload":{"name":"Ada\\\u0000"}}"#, false),
        // An escaped backslash followed by the text u0000 is no NUL.
        (#"{"event":"invitee.created","payload":{"name":"Ada\\u0000"}}"#, true),
        (#"{"event":"invitee.created","payload":{"name":"Ada\u0001"}}"#, true),
    ])
    func aNULAnywhereIsRefused(body: String, accepted: Bool) {
        let delivery = try? Delivery(body: Data(body.utf8))
        #expect((delivery != nil) == accepted, "\(body)")
    }

    @Test(arguments: TestPaths.deliveryFiles(below: TestPaths.fixtures.appendingPathComponent("deliveries"))
        .map { $0.path.replacingOccurrences(of: TestPaths.fixtures.path + "/", with: "") })
    func acceptsEveryFixture(path: String) throws {
        let url = TestPaths.fixtures.appendingPathComponent(path)
        let bodies = DeliveryFile.bodies(contents: try Data(contentsOf: url), isJSONLines: path.hasSuffix(".jsonl"))
        #expect(!bodies.isEmpty)
        for body in bodies {
            let delivery = try Delivery(body: body.bytes)
            #expect(!delivery.event.isEmpty)
        }
    }

    @Test(arguments: TestPaths.jsonFiles(in: TestPaths.fixtures.appendingPathComponent("invalid")).map(\.lastPathComponent))
    func refusesEveryInvalidFixture(name: String) throws {
        let body = try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("invalid/\(name)"))
        #expect(throws: PayloadRejection.self) { try Delivery(body: body) }
    }

    @Test(arguments: [
        ("not json", "body is not valid JSON"),
        ("[1,2]", "body is not a JSON object"),
        (#"{"payload":{}}"#, "`event` is missing"),
        (#"{"event":7,"payload":{}}"#, "`event` is not a string"),
        (#"{"event":null,"payload":{}}"#, "`event` is null"),
        (#"{"event":"invitee.created"}"#, "`payload` is missing"),
        (#"{"event":"invitee.created","payload":"x"}"#, "`payload` is not an object"),
        (#"{"event":"invitee.created","payload":[]}"#, "`payload` is not an object"),
    ])
    func explainsWhyABodyIsRefused(body: String, reason: String) {
        #expect(throws: PayloadRejection(reason: reason)) { try Delivery(body: Data(body.utf8)) }
    }

    /// JSONDecoder skips a byte order mark and reads UTF-16 and UTF-32 (telling them by their
    /// NUL bytes, which are valid UTF-8); the projector reads UTF-8 JSON only, so such a body
    /// was stored and then never applied.
    @Test func refusesWhatIsNotUTF8JSONText() throws {
        let text = #"{"event":"invitee.created","payload":{"uri":"u"}}"#
        let bodies = [Data([0xEF, 0xBB, 0xBF] + Array(text.utf8)), Data(#"{"event":"x","payload":{},"n":"\#u{0}"}"#.utf8)]
            + [String.Encoding.utf16LittleEndian, .utf16BigEndian, .utf32LittleEndian, .utf32BigEndian].map { text.data(using: $0)! }
        for body in bodies {
            #expect(throws: PayloadRejection(reason: "body is not UTF-8 JSON text")) { try Delivery(body: body) }
        }
        #expect(try Delivery(body: Data(text.utf8)).event == "invitee.created")
    }

    /// The log reads a stream back from its text (`category-id`, split at the first `-`). An
    /// id beginning with a combining mark joined that `-` into one Character, so the row could
    /// not be read and nothing after it was projected.
    @Test(arguments: [
        ("event_type.updated", "\\u0301T1"),
        ("invitee.created", "\\u200dI1"),
        ("a-\\u0301b.created", "https://api.calendly.com/a/T1"),
    ])
    func everyStreamReadsBackFromItsName(event: String, uri: String) throws {
        let delivery = try Delivery(body: Data(#"{"event":"\#(event)","payload":{"uri":"\#(uri)"}}"#.utf8))
        #expect(StreamName(delivery.stream.description) == delivery.stream)
        #expect(!delivery.stream.category.unicodeScalars.contains("-"))
    }

    @Test func toleratesOddlyTypedOptionalFields() throws {
        let delivery = try Delivery(body: Data(#"{"event":"x.y","created_at":5,"payload":{"uri":["a"]}}"#.utf8))
        #expect(delivery.createdAt == nil)
        #expect(delivery.payloadURI == nil)
        #expect(delivery.dedupeKey.rawValue.hasPrefix("body:"))
    }

    @Test func everyFormOfOneInviteeSharesItsStream() throws {
        let invitee = "https://api.calendly.com/scheduled_events/E1/invitees/I1"
        let created = try Delivery(body: Data(#"{"event":"invitee.created","payload":{"uri":"\#(invitee)"}}"#.utf8))
        let bareNoShow = try Delivery(body: Data(
            #"{"event":"invitee_no_show.created","payload":{"uri":"https://api.calendly.com/invitee_no_shows/N1","invitee":"\#(invitee)"}}"#.utf8))
        let eventType = try Delivery(body: Data(
            #"{"event":"event_type.updated","payload":{"uri":"https://api.calendly.com/event_types/T1"}}"#.utf8))
        #expect(created.stream == StreamName(category: "invitee", id: "I1"))
        #expect(bareNoShow.stream == created.stream)
        #expect(eventType.stream == StreamName(category: "event_type", id: "T1"))
    }
}
