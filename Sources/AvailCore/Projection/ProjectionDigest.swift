import Crypto
import Foundation

/// SHA-256 over a canonical serialisation of the read models: every expert, then every
/// appointment, each ordered by id, each one line of JSON with sorted keys, every key present
/// and times normalised to RFC 3339 UTC with microseconds. Equal state gives equal bytes on any
/// machine, so equal digests.
public struct ProjectionDigest {
    private var hasher = SHA256()
    private let encoder: JSONEncoder
    private var section = Section.none

    private enum Section { case none, experts, appointments }

    public init() {
        encoder = JSONEncoder.canonical()
    }

    /// Experts must come first, in id order.
    public mutating func add(_ expert: ExpertProfile) {
        enter(.experts, header: "experts\n")
        line(expert)
    }

    /// After the experts, in id order.
    public mutating func add(_ appointment: Appointment) {
        add(appointmentJSON: appointment.canonicalJSON())
    }

    /// An appointment by its `canonicalJSON()`, made elsewhere (a rebuild makes them on every core).
    public mutating func add(appointmentJSON json: [UInt8]) {
        enter(.experts, header: "experts\n")
        enter(.appointments, header: "appointments\n")
        hasher.update(data: json)
        hasher.update(data: [0x0A])
    }

    public mutating func finalize() -> String {
        enter(.experts, header: "experts\n")
        enter(.appointments, header: "appointments\n")
        return Hex.encode(hasher.finalize())
    }

    private mutating func enter(_ next: Section, header: String) {
        switch (section, next) {
        case (.none, .experts), (.experts, .appointments):
            hasher.update(data: Array(header.utf8))
            section = next
        default:
            break
        }
    }

    private mutating func line(_ value: some Encodable) {
        // Plain strings, booleans and integers always encode.
        hasher.update(data: try! encoder.encode(value))
        hasher.update(data: [0x0A])
    }
}
