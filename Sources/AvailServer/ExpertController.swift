import AvailClient
import AvailCore
import AvailStore
import Foundation
import HTTPTypes
import Hummingbird

/// Experts and their integration: `PUT`/`GET /experts/{id}`, `PUT`/`DELETE /experts/{id}/integration`.
/// Changes are events in the log; the answer is read back from the read models.
///
/// Whose event type (CONTRACT.md, "Whose event type, whose appointment"): an expert connects
/// only an event type whose owner is their own Calendly user, as Calendly reports it; the admin
/// may connect any; and an event type one expert holds is no other's.
struct ExpertController: Sendable {
    let readModels: ReadModels
    let commands: Commands
    /// Present when a Calendly token is configured: links are then resolved to event types.
    let resolver: EventTypeResolver?
    /// Connections of one event type one at a time, so two experts cannot both take it.
    let connecting = KeyedLock()

    func addRoutes(to group: RouterGroup<AvailRequestContext>) {
        group.put("/experts/:id") { request, context in try await self.put(request, context: context) }
        group.get("/experts/:id") { _, context -> Response in try Response.json(ExpertView(expert: try await self.expert(context))) }
        group.put("/experts/:id/integration") { request, context in try await self.connect(request, context: context) }
        group.delete("/experts/:id/integration") { _, context in try await self.disconnect(context) }
    }

    struct ProfileRequest: Decodable {
        var name: String
        var email: String
        var timezone: String
    }

    struct IntegrationRequest: Decodable {
        var type: String
        var eventLink: String?
        var schedule: NativeSchedule?

        enum CodingKeys: String, CodingKey {
            case type, schedule
            case eventLink = "event_link"
        }
    }

    func put(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        try context.principal.requireAccess(toExpert: id)
        let body = try await request.decodeJSON(ProfileRequest.self)
        let name = try TextField.line(body.name, field: "name", maximum: 200)
        let email = try TextField.email(body.email, field: "email")
        guard TimeZoneName.isValid(body.timezone) else {
            throw Problem.invalidField("timezone", "must be an IANA time zone such as Europe/Berlin")
        }
        let author: Author = context.principal == .admin ? .admin : .expert
        try await commands.record(.updated(ExpertUpdated(
            expertID: id, name: name, email: email, timezone: body.timezone, setBy: author, at: .now())))
        return try .json(ExpertView(expert: try await expert(id)))
    }

    func connect(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let existing = try await expert(context)
        let body = try await request.decodeJSON(IntegrationRequest.self)
        switch body.type {
        case "calendly":
            guard let text = body.eventLink else { throw Problem.invalidField("event_link", "is required") }
            let link: EventLink
            do {
                link = try EventLink(parsing: text)
            } catch {
                throw Problem(.badRequest, code: "invalid_event_link", detail: "event_link \(error.description)")
            }
            var connection = CalendlyConnected(expertID: existing.id, eventLink: link.description, at: .now())
            if let resolver {
                let resolved: EventTypeResolver.Resolved?
                do {
                    resolved = try await resolver.resolve(link)
                } catch {
                    throw Problem(.badGateway, code: "upstream_unavailable", detail: "\(error)")
                }
                guard let resolved else {
                    throw Problem(
                        .notFound, code: "event_type_not_found",
                        detail: "no Calendly event type has the scheduling link \(link)")
                }
                if context.principal != .admin { try Self.requireOwnership(of: resolved, by: existing, link: link) }
                connection.eventTypeURI = resolved.eventType.uri
                connection.userURI = resolved.owner?.uri ?? resolved.eventType.profile?.owner
                connection.userEmail = resolved.owner?.email
                connection.eventTypeName = resolved.eventType.name
                connection.durationMinutes = resolved.eventType.duration
            }
            try await record(connection)
        case "native":
            guard let schedule = body.schedule else { throw Problem.invalidField("schedule", "is required") }
            do {
                try schedule.validate()
            } catch {
                throw Problem.invalidField("schedule.\(error.field)", error.reason)
            }
            try await commands.record(.nativeScheduleSet(NativeScheduleSet(expertID: existing.id, schedule: schedule, at: .now())))
        default:
            throw Problem.invalidField("type", "must be \"calendly\" or \"native\"")
        }
        return try .json(ExpertView(expert: try await expert(existing.id)))
    }

    /// An expert may connect only an event type its owner (`profile.owner`) is: the owner's
    /// email as Calendly reports it must be the one the admin set for the expert, or the owner
    /// must be the Calendly user of the expert's current connection. What an expert typed as
    /// their own email proves nothing.
    static func requireOwnership(of resolved: EventTypeResolver.Resolved, by expert: ExpertProfile, link: EventLink) throws {
        let owner = resolved.owner
        let byEmail = owner?.email.map(EmailAddress.normalize).map { $0 == expert.adminEmail } ?? false
        let byConnection = owner.map { $0.uri == expert.calendlyConfig?.userURI } ?? false
        guard byEmail || byConnection else {
            throw Problem(
                .forbidden, code: "not_your_event_type",
                detail: "the Calendly event type \(link) belongs to another Calendly user; connect one of your own, or ask the admin")
        }
    }

    /// Records `connection` unless another expert holds its event type: checked and recorded
    /// under one lock per event type, and checked again by the fold, which keeps the first.
    private func record(_ connection: CalendlyConnected) async throws {
        let key = connection.eventTypeURI ?? connection.eventLink
        try await connecting.withLock(key) {
            let connected = try await readModels.experts().values.filter { $0.integrationType == .calendly }
            if connected.contains(where: { $0.id != connection.expertID && $0.holds(connection) }) {
                throw Self.taken(connection)
            }
            try await commands.record(.calendlyConnected(connection))
            // A daemon beside this one (or an offline command) may have won the race in the log.
            guard try await readModels.expert(id: connection.expertID)?.holds(connection) == true else {
                throw Self.taken(connection)
            }
        }
    }

    static func taken(_ connection: CalendlyConnected) -> Problem {
        Problem(
            .conflict, code: "event_type_taken",
            detail: "the Calendly event type \(connection.eventLink) is connected to another expert; it must be disconnected there first")
    }

    func disconnect(_ context: AvailRequestContext) async throws -> Response {
        let existing = try await expert(context)
        try await commands.record(.disconnected(IntegrationDisconnected(expertID: existing.id, at: .now())))
        return try .json(ExpertView(expert: try await expert(existing.id)))
    }

    /// The expert the path names, once the principal may see it.
    private func expert(_ context: AvailRequestContext) async throws -> ExpertProfile {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        try context.principal.requireAccess(toExpert: id)
        return try await expert(id)
    }

    private func expert(_ id: String) async throws -> ExpertProfile {
        guard let expert = try await readModels.expert(id: id) else { throw Problem.notFound("no expert \(id)") }
        return expert
    }
}
