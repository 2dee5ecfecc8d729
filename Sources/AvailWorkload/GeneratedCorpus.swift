import AvailCore
import Foundation

/// Random but reproducible Calendly histories: bookings, cancellations (some arriving without
/// their booking), reschedule chains and no-shows in both forms, about 2 KB a delivery, for
/// the convergence property and the rebuild benchmark.
public struct GeneratedCorpus: Sendable {
    /// One builder per host; the first three are the fixture experts.
    public static let hosts: [DeliveryBuilder] = Corpus.experts.map { expert in
        DeliveryBuilder(
            hostEmail: expert.email, hostName: expert.name,
            eventTypeUUID: String(expert.eventTypeURI.split(separator: "/").last!),
            userUUID: String(expert.userURI.split(separator: "/").last!))
    }

    /// The deliveries of `invitees` invitee histories, grouped by history, in story order.
    public static func histories(seed: UInt64, invitees: Int, hosts: [DeliveryBuilder] = hosts) -> [[Data]] {
        var random = SplitMix64(seed: seed)
        let base: Int64 = 1_795_000_000_000_000
        return (0..<invitees).map { index in
            let host = hosts[Int(random.next() % UInt64(hosts.count))]
            let tag = "gen\(seed)-\(index)"
            var clock = base + Int64(random.next() % 86_400_000_000) * 10
            let start = Timestamp(microseconds: base + 30 * 86_400_000_000 + Int64(random.next() % 1000) * 1_800_000_000)
            func tick() -> Timestamp {
                clock += 1 + Int64(random.next() % 3_600_000_000)
                return Timestamp(microseconds: clock)
            }
            func ids(_ hop: Int) -> (event: String, invitee: String) {
                (DeliveryBuilder.uuid(tag + "-event", hop), DeliveryBuilder.uuid(tag + "-invitee", hop))
            }
            func uri(_ hop: Int) -> String { DeliveryBuilder.inviteeURI(event: ids(hop).event, invitee: ids(hop).invitee) }
            func delivery(_ name: String, hop: Int, old: String? = nil, new: String? = nil) -> Data {
                host.invitee(
                    name, eventUUID: ids(hop).event, inviteeUUID: ids(hop).invitee, index: index, createdAt: tick(),
                    start: Timestamp(microseconds: start.microseconds + Int64(hop) * 86_400_000_000), oldInvitee: old,
                    newInvitee: new)
            }
            switch random.next() % 10 {
            case 0..<4:
                return [delivery("invitee.created", hop: 0)]
            case 4, 5:
                return [delivery("invitee.created", hop: 0), delivery("invitee.canceled", hop: 0)]
            case 6:
                // The booking was never delivered: only its cancellation.
                return [delivery("invitee.canceled", hop: 0)]
            case 7, 8:
                let hops = 1 + Int(random.next() % 3)
                var story = [delivery("invitee.created", hop: 0)]
                for hop in 1...hops {
                    story.append(delivery("invitee.canceled", hop: hop - 1, new: uri(hop)))
                    story.append(delivery("invitee.created", hop: hop, old: uri(hop - 1)))
                }
                return story
            default:
                var story = [delivery("invitee.created", hop: 0)]
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    let name = random.next() % 2 == 0 ? "invitee_no_show.created" : "invitee_no_show.deleted"
                    if random.next() % 2 == 0 {
                        story.append(delivery(name, hop: 0))
                    } else {
                        story.append(bareNoShow(name, invitee: uri(0), at: tick(), host: host))
                    }
                }
                return story
            }
        }
    }

    /// The bare no-show form `{uri, invitee, created_at}`.
    public static func bareNoShowForTests(_ name: String, invitee: String, at: Timestamp) -> Data {
        bareNoShow(name, invitee: invitee, at: at, host: hosts[0])
    }

    static func bareNoShow(_ name: String, invitee: String, at: Timestamp, host: DeliveryBuilder) -> Data {
        let noShow = "https://api.calendly.com/invitee_no_shows/\(DeliveryBuilder.uuid(invitee, Int(at.microseconds % 1_000_000)))"
        return Data("""
            {"created_at":"\(at)","created_by":"https://api.calendly.com/users/\(host.userUUID)","event":"\(name)",\
            "payload":{"created_at":"\(at)","invitee":"\(invitee)","uri":"\(noShow)"}}
            """.utf8)
    }
}
