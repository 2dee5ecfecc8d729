import AvailCore
import AvailStore
import Foundation
import Hummingbird

/// An expert's calendar feeds: created, listed and revoked by the expert itself or the admin
/// (bearer token, or the settings page's session cookie and CSRF header).
struct CalendarFeedController: Sendable {
    let feeds: any CalendarFeedStore
    let readModels: any ReadModelQueries
    /// Where the daemon is reached from outside: the feed URL handed out starts with it.
    let publicURL: PublicURL

    func addRoutes(to group: RouterGroup<AvailRequestContext>) {
        group.post("/experts/:id/calendar-feeds") { _, context in try await self.create(context: context) }
        group.get("/experts/:id/calendar-feeds") { _, context in try await self.list(context: context) }
        group.delete("/experts/:id/calendar-feeds/:feed_id") { _, context in try await self.revoke(context: context) }
    }

    func create(context: AvailRequestContext) async throws -> Response {
        let id = try await readModels.requireExpert(context)
        let (record, token) = try await feeds.create(expertID: id, at: .now())
        // The only answer that shows the feed's URL (its secret).
        var response = try Response.json(ExpertSecretView(record, url: Self.url(base: publicURL.value, token: token)), status: .created)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func list(context: AvailRequestContext) async throws -> Response {
        let id = try await readModels.requireExpert(context)
        return try .json(["feeds": try await feeds.active(expertID: id).map { ExpertSecretView($0) }])
    }

    func revoke(context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let feedID = context.parameters.get("feed_id") ?? ""
        // Another expert's feed is as unknown as a feed that never was: ids cannot be probed.
        guard context.principal.mayAccess(expert: id), CalendarFeedToken.isValidID(feedID),
              try await feeds.revoke(expertID: id, feedID: feedID, at: .now())
        else {
            throw Problem.notFound("no calendar feed \(feedID.prefix(40)) for expert \(id)")
        }
        return Response(status: .noContent)
    }

    /// `{public}/calendar/{feed_token}.ics`.
    static func url(base: String, token: CalendarFeedToken) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/calendar/\(token.urlForm).ics"
    }
}
