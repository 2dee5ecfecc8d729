@testable import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

/// The hand-written reader and writer agree with Foundation's JSON, which they replace on the
/// rebuild path.
@Suite struct JSONScannerTests {
    static func allBodies() throws -> [Data] {
        try Corpus.fixtureBodies() + Corpus.sampleBodies() + GeneratedCorpus.histories(seed: 3, invitees: 200).flatMap { $0 }
    }

    @Test func scansEveryDeliveryAsJSONDecoderDecodesIt() throws {
        var invitees = 0
        for body in try Self.allBodies() {
            let event = try JSONDecoder().decode(EventName.self, from: body).event
            guard event.hasPrefix("invitee") else { continue }
            #expect(try InviteeDelivery.scan(body) == JSONDecoder().decode(InviteeDelivery.self, from: body))
            invitees += 1
        }
        #expect(invitees > 300)
    }

    struct EventName: Decodable { var event: String }

    @Test(arguments: [
        #"{"event":"invitee.created","payload":{"name":"Zo\u00eb \ud83d\ude80 \"q\" \\ \/ \n\t"}}"#,
        #"{ "event" : "invitee.created" , "payload" : { "uri" : null , "rescheduled" : true , "x" : [1, -2.5e3, {"a": [true, false, null]}] } }"#,
        #"{"payload":{"scheduled_event":{"event_memberships":[{"user_email":"A@B.example","user":"u"}],"start_time":"2026-01-01T00:00:00Z"}},"event":"invitee.canceled"}"#,
        #"{"event":"invitee.created","payload":{"cancellation":null,"no_show":{"uri":"n","created_at":"t"},"scheduled_event":null}}"#,
        // Keys are compared unescaped: an escaped key is the key, and repeats an unescaped one.
        #"{"ev\u0065nt":"invitee.created","payload":{"\u0075ri":"I1","uri":"I2","n\u0061me":"x"}}"#,
        #"{"event":"invitee.created","payload":{"uri":"I1","\u0075ri":"I2"},"\/payload":{}}"#,
        // Keys that only begin like read ones, or hold one.
        #"{"event":"invitee.created","payload":{"uri_":"I1","ur":"I2","xuri":"I3","":"I4"}}"#,
    ])
    func agreesOnTrickyInput(text: String) throws {
        let body = Data(text.utf8)
        #expect(try InviteeDelivery.scan(body) == JSONDecoder().decode(InviteeDelivery.self, from: body))
    }

    /// Found by fuzzing, or by reading the scanner after it (`fuzz/regressions/`): bodies ingest
    /// accepts, which the scanner read otherwise than JSONDecoder (another event, another
    /// invitee) or refused (the projector parked them).
    @Test(arguments: [
        // A repeated key: JSONDecoder, and so ingest, reads the first; the scanner read the last.
        #"{"event":"invitee.created","payload":{"uri":"I1","name":null,"name":"x"},"event":"invitee.canceled","payload":{"uri":"I2"}}"#,
        // A trailing comma, which JSONDecoder allows once.
        #"{"event":"invitee.created","payload":{"uri":"I1","scheduled_event":{"event_memberships":[{"user_email":"a@b.c"},],},},}"#,
        // White space before the body.
        "\r\n\t {\"event\":\"invitee.created\",\"payload\":{}}",
        // In an object nobody reads, keys JSONDecoder does not look at.
        "{\"event\":\"invitee.created\",\"payload\":{\"tracking\":{\"utm\u{1}\":null,\"\\q\":1,\"\\ud800\":[]}}}",
    ])
    func agreesWhereTheScannerOnceDidNot(text: String) throws {
        let body = Data(text.utf8)
        let delivery = try Delivery(body: body)
        let scanned = try InviteeDelivery.scan(body)
        #expect(scanned == (try JSONDecoder().decode(InviteeDelivery.self, from: body)))
        #expect(scanned.event == delivery.event)
    }

    @Test(arguments: [
        #"{"event":"invitee.created","payload":{"uri":5}}"#,
        #"{"event":"invitee.created","payload":{"rescheduled":"yes"}}"#,
        #"{"event":"invitee.created","payload":{"scheduled_event":{"event_memberships":[null]}}}"#,
        #"{"event":"invitee.created","payload":{"name":"\ud800"}}"#,
        #"{"event":"invitee.created","payload":{"name":"unterminated}}"#,
        #"{"event":"invitee.created","payload":{}} trailing"#,
        #"{"event":"invitee.created"}"#,
        #"{"event":"invitee.created","payload":{"a":tru}}"#,
        #"{"event":"invitee.created","payload":"#,
        "",
    ])
    func refusesWhatJSONDecoderRefuses(text: String) {
        let body = Data(text.utf8)
        #expect(throws: (any Error).self) { try InviteeDelivery.scan(body) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(InviteeDelivery.self, from: body) }
    }

    /// A refusal names where in the body it is, though no key is kept as a `String`.
    @Test func aRefusalNamesItsKeyPath() throws {
        let body = Data(#"{"event":"invitee.created","payload":{"name":"n","scheduled_event":{"uri":5}}}"#.utf8)
        let error = try #require(throws: JSONScanner.Failure.self) { try InviteeDelivery.scan(body) }
        #expect(error.description == "payload.scheduled_event.uri: expected a string")
    }

    /// The scanner recursed without a bound: a deep enough body overflowed the stack. It now
    /// stops where JSONDecoder stops, at 512 levels.
    @Test func nestsAsDeepAsJSONDecoderAndNoDeeper() throws {
        func body(depth: Int) -> Data {
            let nested = String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1)
            return Data(#"{"event":"invitee.created","payload":{},"x":\#(nested)}"#.utf8)
        }
        #expect(try InviteeDelivery.scan(body(depth: 512)) == JSONDecoder().decode(InviteeDelivery.self, from: body(depth: 512)))
        #expect(throws: (any Error).self) { try InviteeDelivery.scan(body(depth: 513)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(InviteeDelivery.self, from: body(depth: 513)) }
        #expect(throws: (any Error).self) { try InviteeDelivery.scan(body(depth: 300_000)) }
    }

    @Test func appointmentLinesAreFoundationsSortedKeyJSON() throws {
        var projection = Projection()
        for event in try Corpus.events(try Self.allBodies()) { projection.apply(event) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for appointment in projection.appointments {
            #expect(appointment.canonicalJSON() == Array(try encoder.encode(appointment)))
        }
    }

    @Test func stringsAreEscapedAsFoundationEscapesThem() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let strings = ["plain", "quote \" backslash \\ slash /", "\u{0}\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f}", "Zoë 李雷 🚀", ""]
        for text in strings {
            var writer = JSONWriter()
            writer.string(text)
            #expect(writer.bytes == Array(try encoder.encode(text)), "\(text.debugDescription)")
        }
    }
}
