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
