import AvailCore
import AvailStore
import Foundation
import Hummingbird

/// Expert tokens: issued by the admin, listed and revoked by the admin or the expert itself.
struct TokenController: Sendable {
    let tokens: ExpertTokens
    let readModels: ReadModels
    /// A revoked token's open event streams end with it.
    let feed: ExpertChangeFeed

    func addRoutes(to group: RouterGroup<AvailRequestContext>) {
        group.post("/experts/:id/tokens") { request, context in try await self.issue(request, context: context) }
        group.get("/experts/:id/tokens") { _, context in try await self.list(context: context) }
        group.delete("/experts/:id/tokens/:token_id") { _, context in try await self.revoke(context: context) }
    }

    struct IssueRequest: Decodable {
        var label: String?
    }

    /// The answer to an issue: the only time the secret is shown.
    struct Issued: Encodable {
        var id: String
        var expertID: String
        var label: String?
        var createdAt: Timestamp
        var token: String

        enum CodingKeys: String, CodingKey {
            case id, label, token
            case expertID = "expert_id"
            case createdAt = "created_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(expertID, forKey: .expertID)
            try container.encode(label, forKey: .label)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(token, forKey: .token)
        }
    }

    struct Listed: Encodable {
        var tokens: [Item]

        struct Item: Encodable {
            var record: ExpertTokenRecord

            enum CodingKeys: String, CodingKey {
                case id, label
                case expertID = "expert_id"
                case createdAt = "created_at"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(record.id, forKey: .id)
                try container.encode(record.expertID, forKey: .expertID)
                try container.encode(record.label, forKey: .label)
                try container.encode(record.createdAt, forKey: .createdAt)
            }
        }
    }

    func issue(_ request: Request, context: AvailRequestContext) async throws -> Response {
        try context.principal.requireAdmin()
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let body = try await request.decodeOptionalJSON(IssueRequest.self)
        let label = try Self.label(body?.label)
        guard try await readModels.expert(id: id) != nil else { throw Problem.notFound("no expert \(id)") }
        let (record, token) = try await tokens.issue(expertID: id, label: label, at: .now())
        let issued = Issued(id: record.id, expertID: id, label: label, createdAt: record.createdAt, token: token.bearer)
        var response = try Response.json(issued, status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func list(context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        try context.principal.requireAccess(toExpert: id)
        guard try await readModels.expert(id: id) != nil else { throw Problem.notFound("no expert \(id)") }
        let records = try await tokens.active(expertID: id)
        return try .json(Listed(tokens: records.map(Listed.Item.init)))
    }

    func revoke(context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let tokenID = context.parameters.get("token_id") ?? ""
        guard context.principal.mayAccess(expert: id), ExpertToken.isValidID(tokenID),
              try await tokens.revoke(expertID: id, tokenID: tokenID, at: .now())
        else {
            throw Problem.notFound("no token \(tokenID.prefix(40)) for expert \(id)")
        }
        feed.revoked(token: tokenID)
        return Response(status: .noContent)
    }

    static func label(_ text: String?) throws -> String? {
        guard let text else { return nil }
        do {
            return try ExpertToken.label(text)
        } catch {
            throw Problem.invalidField("label", error.reason)
        }
    }
}
