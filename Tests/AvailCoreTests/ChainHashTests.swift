import AvailCore
import Foundation
import Testing

@Suite struct ChainHashTests {
    let event = NewEvent(
        stream: StreamName(category: "invitee", id: "I1"),
        type: "invitee.created",
        source: .calendly,
        recordedAt: Timestamp(microseconds: 1_700_000_000_000_000),
        dedupeKey: DedupeKey(rawValue: "evt:1"),
        body: Data("{}".utf8),
        signature: "t=1,v1=00"
    )

    func hash(_ event: NewEvent, previous: [UInt8] = ChainHash.genesis, position: Int64 = 1, version: Int64 = 1) -> [UInt8] {
        ChainHash.hash(previous: previous, position: position, streamVersion: version, event: event)
    }

    @Test func isDeterministic() {
        #expect(hash(event) == hash(event))
        #expect(hash(event).count == 32)
    }

    @Test func coversThePredecessor() {
        #expect(hash(event, previous: [UInt8](repeating: 1, count: 32)) != hash(event))
    }

    @Test func coversEveryField() {
        let original = hash(event)
        var changed: [NewEvent] = []
        var copy = event
        copy.body = Data("{ }".utf8); changed.append(copy); copy = event
        copy.type = "invitee.canceled"; changed.append(copy); copy = event
        copy.source = .api; changed.append(copy); copy = event
        copy.stream = StreamName(category: "invitee", id: "I2"); changed.append(copy); copy = event
        copy.recordedAt = Timestamp(microseconds: 1); changed.append(copy); copy = event
        copy.dedupeKey = DedupeKey(rawValue: "evt:2"); changed.append(copy); copy = event
        copy.signature = nil; changed.append(copy)
        for other in changed { #expect(hash(other) != original) }
        #expect(hash(event, position: 2) != original)
        #expect(hash(event, version: 2) != original)
    }
}
