import AvailCore
import HTTPTypes

/// Who is asking: resolved from `Authorization: Bearer …` on every authenticated route.
enum Principal: Sendable, Equatable {
    /// No token checked (public routes).
    case anonymous
    /// The admin token: everything.
    case admin
    /// An expert token: that expert and its appointments, nothing else.
    case expert(String)

    /// Refuses all but the admin: 403, because the route itself is no secret.
    func requireAdmin() throws {
        switch self {
        case .admin: return
        case .expert: throw Problem(.forbidden, code: .forbidden, detail: "this needs the admin token")
        case .anonymous: throw Problem.unauthorized()
        }
    }

    /// Refuses access to another expert's resources with the 404 an unknown id gets, so ids
    /// cannot be probed with a token. (Only authenticated routes ask, so `.anonymous` never
    /// gets this far.)
    func requireAccess(toExpert id: String) throws {
        guard mayAccess(expert: id) else { throw Problem.notFound("no expert \(id)") }
    }

    func mayAccess(expert id: String?) -> Bool {
        switch self {
        case .admin: true
        case .expert(let own): own == id
        case .anonymous: false
        }
    }

    /// As `requireAccess(toExpert:)` for an appointment; unassigned ones are the admin's.
    func requireAccess(to appointment: Appointment) throws {
        guard mayAccess(expert: appointment.expertID) else { throw Problem.notFound("no appointment \(appointment.id)") }
    }
}
