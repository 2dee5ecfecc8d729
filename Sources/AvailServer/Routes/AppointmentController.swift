import AvailCore
import AvailStore
import Foundation
import Hummingbird

/// Reading appointments: an expert's, paged in `start_time` order, and one by id.
struct AppointmentController: Sendable {
    let readModels: any ReadModelQueries

    func addRoutes(to group: RouterGroup<AvailRequestContext>) {
        group.get("/experts/:id/appointments") { request, context in try await self.list(request, context: context) }
        group.get("/appointments/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard let appointment = try await self.readModels.appointment(id: id) else {
                throw Problem.notFound("no appointment \(id)")
            }
            try context.principal.requireAccess(to: appointment)
            return Response.json(bytes: appointment.canonicalJSON())
        }
    }

    func list(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        try context.principal.requireAccess(toExpert: id)
        let parameters = request.uri.queryParameters
        var query = AppointmentQuery(expertID: id)
        if let status = parameters["status"] {
            guard let value = AppointmentStatus(rawValue: String(status)) else {
                throw Problem.invalidParameter("status", "must be scheduled, canceled or rescheduled")
            }
            query.status = value
        }
        query.from = try parameters.time("from")
        query.to = try parameters.time("to")
        query.limit = Int(try parameters.integer("limit", default: 100, in: 1...1000))
        if let cursor = parameters["cursor"] {
            guard let value = AppointmentCursor(token: String(cursor)) else {
                throw Problem.invalidParameter("cursor", "is not a cursor this server issued")
            }
            query.after = value
        }
        guard try await readModels.expert(id: id) != nil else { throw Problem.notFound("no expert \(id)") }
        let page = try await readModels.appointments(query)
        return .json(bytes: AppointmentList(appointments: page.appointments, nextCursor: page.next?.token).json())
    }
}

extension Parameters {
    /// An RFC 3339 time query parameter; a 400 naming it when malformed.
    func time(_ name: String) throws -> Timestamp? {
        guard let text = self[name[...]] else { return nil }
        guard let time = Timestamp(rfc3339: String(text)) else {
            throw Problem.invalidParameter(name, "must be an RFC 3339 time such as 2026-12-01T09:00:00Z")
        }
        return time
    }
}

extension AppointmentCursor {
    /// Opaque to clients: base64url of `start_time` and `id`.
    var token: String {
        Data("\(startTime)\n\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard token.count <= 512, let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8)
        else { return nil }
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        self.init(startTime: String(parts[0]), id: String(parts[1]))
    }
}
