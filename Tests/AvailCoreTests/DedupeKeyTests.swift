import AvailCore
import Foundation
import Testing

@Suite struct DedupeKeyTests {
    let uri = "https://api.calendly.com/scheduled_events/E1/invitees/I1"

    func key(_ json: String) throws -> DedupeKey {
        try Delivery(body: Data(json.utf8)).dedupeKey
    }

    @Test func sameDeliveryInOtherBytesIsTheSameKey() throws {
        let compact = try key(#"{"event":"invitee.created","created_at":"2026-01-01T00:00:00.000000Z","payload":{"uri":"\#(uri)"}}"#)
        let pretty = try key("""
            {
              "payload": { "uri": "\(uri)", "name": "retried" },
              "created_at": "2026-01-01T00:00:00.000000Z",
              "event": "invitee.created"
            }
            """)
        #expect(compact == pretty)
        #expect(compact.rawValue.hasPrefix("evt:"))
    }

    @Test func eachPartOfTheKeyDistinguishes() throws {
        let base = try key(#"{"event":"invitee_no_show.created","created_at":"2026-01-01T00:00:00Z","payload":{"uri":"\#(uri)"}}"#)
        let otherTime = try key(#"{"event":"invitee_no_show.created","created_at":"2026-01-01T00:00:01Z","payload":{"uri":"\#(uri)"}}"#)
        let otherEvent = try key(#"{"event":"invitee_no_show.deleted","created_at":"2026-01-01T00:00:00Z","payload":{"uri":"\#(uri)"}}"#)
        let otherURI = try key(#"{"event":"invitee_no_show.created","created_at":"2026-01-01T00:00:00Z","payload":{"uri":"\#(uri)2"}}"#)
        #expect(Set([base, otherTime, otherEvent, otherURI]).count == 4)
    }

    @Test func partsCannotBleedIntoEachOther() {
        let a = DedupeKey(event: "a", payloadURI: "bc", createdAt: "d", body: Data())
        let b = DedupeKey(event: "ab", payloadURI: "c", createdAt: "d", body: Data())
        #expect(a != b)
    }

    @Test func fallsBackToTheBodyHashWhenAPartIsMissing() throws {
        let noTime = try key(#"{"event":"invitee.created","payload":{"uri":"\#(uri)"}}"#)
        let noTimeSpaced = try key(#"{"event":"invitee.created", "payload":{"uri":"\#(uri)"}}"#)
        let noURI = try key(#"{"event":"invitee.created","created_at":"2026-01-01T00:00:00Z","payload":{}}"#)
        #expect(noTime.rawValue.hasPrefix("body:"))
        #expect(noURI.rawValue.hasPrefix("body:"))
        #expect(noTime != noTimeSpaced)
        #expect(try key(#"{"event":"invitee.created","payload":{"uri":"\#(uri)"}}"#) == noTime)
    }
}
