import AvailClient
import AvailCore
import AvailStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Experts and their integration: `PUT`/`GET /experts/{id}`, `PUT`/`DELETE /experts/{id}/integration`.
/// Changes are events in the log; the answer is read back from the read models.
///
/// Whose event type (the README, "Access": whose event type): an expert connects
/// only an event type whose owner is their own Calendly user, as Calendly reports it; the admin
/// may connect any; and an event type one expert holds is no other's.
struct ExpertController: Sendable {
    let readModels: any ReadModelQueries
    let commands: Commands
    /// Which Calendly token speaks for an expert: their own account's, or the organization's.
    let connections: CalendlyConnections
    let subscriptions: CalendlySubscriptions
    /// How far each expert's reconciliation with Calendly got (shown with their account).
    let reconciliation: any ReconcileProgressStore
    /// Connections one at a time, so two experts cannot both take an event type.
    let connecting = KeyedLock()

    /// The most event types one expert may offer.
    static let maximumEventTypes = 20

    func addRoutes(to group: RouterGroup<AvailRequestContext>) {
        group.put("/experts/:id") { request, context in try await self.put(request, context: context) }
        group.get("/experts/:id") { _, context -> Response in try await self.view(try await self.expert(context)) }
        group.put("/experts/:id/integration") { request, context in try await self.connect(request, context: context) }
        group.delete("/experts/:id/integration") { _, context in try await self.disconnect(context) }
        group.get("/experts/:id/calendly/event-types") { _, context in try await self.eventTypes(context) }
    }

    struct ProfileRequest: Decodable {
        var name: String
        var email: String
        var timezone: String
    }

    struct IntegrationRequest: Decodable {
        var type: String
        var eventLink: String?
        var eventTypes: [String]?
        var schedule: NativeSchedule?

        enum CodingKeys: String, CodingKey {
            case type, schedule
            case eventLink = "event_link", eventTypes = "event_types"
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
        return try await view(try await expert(id))
    }

    /// The expert as `GET /experts/{id}` shows them.
    func view(_ expert: ExpertProfile) async throws -> Response {
        let progress = expert.calendlyAccount == nil ? nil : try await reconciliation.load(expertID: expert.id)
        return try .json(ExpertView(expert: expert, reconciliation: progress))
    }

    func connect(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let existing = try await expert(context)
        let body = try await request.decodeJSON(IntegrationRequest.self)
        switch body.type {
        case "calendly":
            let wanted = try Self.wantedEventTypes(body)
            var connection = CalendlyConnected(expertID: existing.id, eventLink: wanted[0].link?.description ?? "", at: .now())
            if connections.canAsk(for: existing) {
                let resolved = try await resolve(wanted, for: existing, principal: context.principal)
                let chosen = resolved.map {
                    ChosenEventType(uri: $0.eventType.uri, link: $0.eventType.schedulingURL, name: $0.eventType.name, durationMinutes: $0.eventType.duration)
                }
                connection.eventLink = (try? EventLink(parsing: chosen[0].link))?.description ?? chosen[0].link
                connection.eventTypeURI = chosen[0].uri
                connection.eventTypeName = chosen[0].name
                connection.durationMinutes = chosen[0].durationMinutes
                connection.eventTypes = chosen
                if let account = existing.calendlyAccount {
                    connection.userURI = account.userURI
                    connection.userEmail = account.email
                } else {
                    connection.userURI = resolved[0].owner?.uri ?? resolved[0].eventType.profile?.owner
                    connection.userEmail = resolved[0].owner?.email
                }
            } else {
                // No token to resolve links with: links alone, as given.
                let links = try wanted.map { wanted -> EventLink in
                    guard let link = wanted.link else {
                        throw Problem(
                            .conflict, code: .calendlyNotConnected,
                            detail: "an event type URI can only be checked with Calendly: connect the expert's Calendly account first")
                    }
                    return link
                }
                connection.eventTypes = links.map { ChosenEventType(uri: nil, link: $0.description, name: nil, durationMinutes: nil) }
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
        return try await view(try await expert(existing.id))
    }

    /// One event type asked for: by its Calendly URI, or by its public link.
    struct Wanted: Equatable {
        var uri: String?
        var link: EventLink?

        var description: String { uri ?? link?.description ?? "" }
    }

    /// `event_types` (one or more URIs or links, no repeats), or `event_link` alone.
    static func wantedEventTypes(_ body: IntegrationRequest) throws -> [Wanted] {
        let texts: [(String, String)]
        if let list = body.eventTypes {
            guard body.eventLink == nil else {
                throw Problem.invalidField("event_types", "give event_types or event_link, not both")
            }
            guard !list.isEmpty else { throw Problem.invalidField("event_types", "must name at least one event type") }
            guard list.count <= maximumEventTypes else {
                throw Problem.invalidField("event_types", "may name at most \(maximumEventTypes) event types")
            }
            texts = list.enumerated().map { ("event_types[\($0.offset)]", $0.element) }
        } else if let link = body.eventLink {
            texts = [("event_link", link)]
        } else {
            throw Problem.invalidField("event_types", "is required (or event_link)")
        }
        var wanted: [Wanted] = []
        for (field, text) in texts {
            let item: Wanted
            if CalendlyURI.isEventTypeURI(text) {
                item = Wanted(uri: text.nfc, link: nil)
            } else {
                do {
                    item = Wanted(uri: nil, link: try EventLink(parsing: text))
                } catch {
                    throw Problem(
                        .badRequest, code: .invalidEventLink,
                        detail: "\(field) must be an event type URI (https://api.calendly.com/event_types/…) or an event link: \(error.description)")
                }
            }
            guard !wanted.contains(item) else { throw Problem.invalidField(field, "names an event type already listed") }
            wanted.append(item)
        }
        return wanted
    }

    /// The event types asked for, as Calendly describes them, each one the principal may offer.
    ///
    /// With the expert's own account, only what that account's token lists for its owner;
    /// with the organization token, the part-6 rules (`requireOwnership`).
    private func resolve(_ wanted: [Wanted], for expert: ExpertProfile, principal: Principal) async throws -> [EventTypeResolver.Resolved] {
        if expert.calendlyAccount != nil {
            let offered = try await connections.eventTypes(of: expert)
            return try wanted.map { item in
                guard let found = offered.first(where: { Self.matches($0, item) }) else {
                    throw Problem(
                        .forbidden, code: .notYourEventType,
                        detail: "\(item.description) is not an event type of the connected Calendly account; choose one of GET /experts/\(expert.id)/calendly/event-types")
                }
                do {
                    try EventTypeResolver.checkDuration(found)
                } catch {
                    throw Problem(.badGateway, code: .upstreamUnavailable, detail: "\(error)")
                }
                return EventTypeResolver.Resolved(eventType: found, owner: nil)
            }
        }
        var resolved: [EventTypeResolver.Resolved] = []
        for item in wanted {
            let found = try await upstream {
                try await connections.perform(for: expert) { client throws(CalendlyError) in
                    let resolver = EventTypeResolver(client: client)
                    if let uri = item.uri { return try await resolver.resolve(uri: uri) }
                    return try await resolver.resolve(item.link!)
                }
            }
            guard let found else {
                throw Problem(.notFound, code: .eventTypeNotFound, detail: "no Calendly event type is \(item.description)")
            }
            if principal != .admin { try Self.requireOwnership(of: found, by: expert, link: item.description) }
            resolved.append(found)
        }
        return resolved
    }

    static func matches(_ eventType: CalendlyEventType, _ wanted: Wanted) -> Bool {
        if let uri = wanted.uri { return eventType.uri.nfc == uri }
        return (try? EventLink(parsing: eventType.schedulingURL)) == wanted.link
    }

    /// Calendly's failures as 502s; availd's own problems as they are.
    private func upstream<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as CalendlyError {
            throw Problem(.badGateway, code: .upstreamUnavailable, detail: "\(error)")
        }
    }

    /// `GET /experts/{id}/calendly/event-types`: what the expert's Calendly account offers,
    /// each with whether the expert offers it through availd.
    func eventTypes(_ context: AvailRequestContext) async throws -> Response {
        let expert = try await expert(context)
        let listed = try await connections.eventTypes(of: expert)
        let chosen = Set(expert.integrationType == .calendly ? expert.calendlyConfig?.eventTypeURIs ?? [] : [])
        return try .json(EventTypeList(expertID: expert.id, eventTypes: listed.map { EventTypeList.Item($0, chosen: chosen.contains($0.uri.nfc)) }))
    }

    /// An expert may connect only an event type its owner (`profile.owner`) is: the owner's
    /// email as Calendly reports it must be the one the admin set for the expert, or the owner
    /// must be the Calendly user of the expert's current connection. What an expert typed as
    /// their own email proves nothing.
    static func requireOwnership(of resolved: EventTypeResolver.Resolved, by expert: ExpertProfile, link: String) throws {
        let owner = resolved.owner
        let byEmail = owner?.email.map(EmailAddress.normalize).map { $0 == expert.adminEmail } ?? false
        let byConnection = owner.map { $0.uri == expert.calendlyConfig?.userURI } ?? false
        guard byEmail || byConnection else {
            throw Problem(
                .forbidden, code: .notYourEventType,
                detail: "the Calendly event type \(link) belongs to another Calendly user; connect one of your own, or ask the admin")
        }
    }

    /// Records `connection` unless another expert holds its event type: checked and recorded
    /// under one lock per event type, and checked again by the fold, which keeps the first.
    private func record(_ connection: CalendlyConnected) async throws {
        try await connecting.withLock("calendly-event-types") {
            let connected = try await readModels.experts().values.filter { $0.integrationType == .calendly }
            for holder in connected where holder.id != connection.expertID {
                if let taken = holder.held(of: connection).first { throw Self.taken(taken) }
            }
            try await commands.record(.calendlyConnected(connection))
            // A daemon beside this one (or an offline command) may have won the race in the log.
            guard let now = try await readModels.expert(id: connection.expertID), now.held(of: connection).count == connection.chosen.count
            else { throw Self.taken(connection.chosen[0]) }
        }
    }

    static func taken(_ eventType: ChosenEventType) -> Problem {
        Problem(
            .conflict, code: .eventTypeTaken,
            detail: "the Calendly event type \(eventType.link) is connected to another expert; it must be disconnected there first")
    }

    /// `DELETE /experts/{id}/integration`: the expert offers nothing any more, and their own
    /// Calendly account (if connected) is let go: the token revoked at Calendly, then erased
    /// here. A revocation Calendly does not answer does not keep the tokens: they are erased
    /// all the same (and the warning is logged), since the expert asked to be disconnected.
    func disconnect(_ context: AvailRequestContext) async throws -> Response {
        let existing = try await expert(context)
        // With the token, before it is revoked.
        await subscriptions.remove(for: existing)
        try await commands.record(.disconnected(IntegrationDisconnected(expertID: existing.id, at: .now())))
        if let stored = try? await connections.credentials.load(expertID: existing.id) {
            if let oauth = connections.oauth {
                do {
                    try await oauth.revoke(stored.tokens.refreshToken)
                } catch {
                    connections.logger.warning(
                        "calendly token revocation failed; the tokens are erased anyway",
                        metadata: ["expert": "\(existing.id)", "error": "\(error)"])
                }
            }
        }
        try await connections.credentials.erase(expertID: existing.id)
        return try await view(try await expert(existing.id))
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
