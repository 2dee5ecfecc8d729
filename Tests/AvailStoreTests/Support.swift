import AvailCore
import AvailStore
import AvailTesting
import AvailWorkload
import Foundation

/// A logged delivery built from the shared builder: invitee `index` of a generated corpus.
func delivery(_ index: Int, seed: String = "store") throws -> NewEvent {
    let body = DeliveryBuilder().invitee(index: index, seed: seed)
    return NewEvent(delivery: try Delivery(body: body), signature: "t=1,v1=00", receivedAt: .now())
}
