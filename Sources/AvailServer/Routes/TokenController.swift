import AvailCore
import AvailStore
import Foundation
import Hummingbird

/// Expert tokens: issued by the admin, listed and revoked by the admin or the expert itself.
struct TokenController: Sendable {
    let tokens: any ExpertTokenStore
    let readModels: any ReadModelQueries
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

    func issue(_ request: Request, context: AvailRequestContext) async throws -> Response {
        try context.principal.requireAdmin()
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let body = try await request.decodeOptionalJSON(IssueRequest.self)
        let label = try Self.label(body?.label)
        guard try await readModels.expert(id: id) != nil else { throw Problem.notFound("no expert \(id)") }
        let (record, token) = try await tokens.issue(expertID: id, label: label, at: .now())
        // The only answer that shows the token's secret.
        var response = try Response.json(ExpertSecretView(record, bearer: token.bearer), status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func list(context: AvailRequestContext) async throws -> Response {
        let id = try await readModels.requireExpert(context)
        return try .json(["tokens": try await tokens.active(expertID: id).map { ExpertSecretView($0) }])
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
