import AvailClient
import AvailCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// `/webhook_subscriptions` as Calendly serves it, and the delivery switches under
/// `/_sim/webhooks` (never part of Calendly).
extension CalendlyStandIn {
    struct SubscriptionBody: Decodable {
        var url: String?
        var events: [String]?
        var organization: String?
        var scope: String?
        var user: String?
        var group: String?
        var signingKey: String?

        enum CodingKeys: String, CodingKey {
            case url, events, organization, scope, user, group
            case signingKey = "signing_key"
        }
    }

    struct FailSwitch: Decodable {
        var url: String
        var after: Int
    }

    struct DropSwitch: Decodable {
        var fraction: Double
        var seed: UInt64?
        var url: String?
    }

    /// Whether `me` may see `subscription`: a user-scoped one its user (or an owner or admin of
    /// the organization), any other an owner or admin of its organization.
    static func sees(_ me: StandInMember, _ subscription: StandInSubscription, _ state: StandInState) -> Bool {
        guard subscription.organization == me.organization else { return false }
        if subscription.scope == "user" { return state.permits(me, on: subscription.user) }
        return me.isAdmin
    }

    static func addWebhookRoutes(to router: Router<BasicRequestContext>, state: StandInState, webhooks: StandInWebhooks) {
        router.post("/webhook_subscriptions") { request, context -> Response in
            let me = try authenticate(request, state)
            guard let body = try? await request.decode(as: SubscriptionBody.self, context: context) else {
                throw CalendlyProblem.invalid("body", "The body must be a JSON object")
            }
            var details: [(parameter: String, message: String)] = []
            let url = body.url.flatMap { URLComponents(string: $0) }
            if body.url == nil {
                details.append(("url", "is required"))
            } else if !(["http", "https"].contains(url?.scheme?.lowercased() ?? "") && !(url?.host ?? "").isEmpty) {
                details.append(("url", "must be a valid http or https URL"))
            }
            if (body.events ?? []).isEmpty {
                details.append(("events", "must contain at least one event"))
            } else if let unknown = body.events?.first(where: { !StandInWebhooks.eventNames.contains($0) }) {
                details.append(("events", "\(unknown) is not a valid event"))
            }
            if body.organization == nil { details.append(("organization", "is required")) }
            switch body.scope {
            case nil: details.append(("scope", "is required"))
            case "user": if body.user == nil { details.append(("user", "is required for the user scope")) }
            case "organization": break
            case "group": if body.group == nil { details.append(("group", "is required for the group scope")) }
            default: details.append(("scope", "must be one of user, organization, group"))
            }
            if let key = body.signingKey, key.isEmpty { details.append(("signing_key", "cannot be empty")) }
            guard details.isEmpty, let callback = body.url, let events = body.events, let organization = body.organization,
                let scope = body.scope
            else {
                throw CalendlyProblem(.badRequest, "Invalid Argument", "The supplied parameters are invalid.", details: details)
            }
            guard organization == me.organization else { throw permissionDenied }
            switch scope {
            // A user-scoped subscription is created with that user's own token, an admin's
            // included: stricter than letting an admin create one for someone else.
            case "user": guard body.user == me.user.uri else { throw permissionDenied }
            case "organization": guard me.isAdmin else { throw permissionDenied }
            default:
                guard me.isAdmin else { throw permissionDenied }
                // The seed has no groups.
                throw CalendlyProblem(.notFound, "Resource Not Found", "The group was not found")
            }
            let token = String((request.headers[.authorization] ?? "").dropFirst("Bearer ".count))
            let key = body.signingKey ?? state.oauthApp(token: token)?.webhookSigningKey ?? state.webhookSigningKey(organization: organization)
            let now = "\(Timestamp.now())"
            let subscription = StandInSubscription(
                uuid: UUID().uuidString.lowercased(), callbackURL: callback, createdAt: now, updatedAt: now, retryStartedAt: nil,
                state: "active", events: events, scope: scope, organization: organization, user: scope == "user" ? body.user : nil,
                group: nil, creator: me.user.uri, signingKey: key)
            guard let added = webhooks.add(subscription) else {
                throw CalendlyProblem(.conflict, "Already Exists", "Hook with this url already exists")
            }
            var response = try json(["resource": StandInShapes.webhookSubscription(added)])
            response.status = .created
            return response
        }
        router.get("/webhook_subscriptions") { request, _ -> Response in
            let me = try authenticate(request, state)
            let query = request.uri.queryParameters
            let organization = query["organization"].map(String.init), scope = query["scope"].map(String.init)
            let user = query["user"].map(String.init), group = query["group"].map(String.init)
            var details: [(parameter: String, message: String)] = []
            if organization == nil { details.append(("organization", "is required")) }
            switch scope {
            case nil: details.append(("scope", "is required"))
            case "user": if user == nil { details.append(("user", "is required for the user scope")) }
            case "organization": break
            case "group": if group == nil { details.append(("group", "is required for the group scope")) }
            default: details.append(("scope", "must be one of user, organization, group"))
            }
            let (count, offset) = try pageParameters(query)
            guard details.isEmpty, let organization, let scope else {
                throw CalendlyProblem(.badRequest, "Invalid Argument", "The supplied parameters are invalid.", details: details)
            }
            guard organization == me.organization else { throw permissionDenied }
            switch scope {
            case "user": guard state.permits(me, on: user) else { throw permissionDenied }
            default: guard me.isAdmin else { throw permissionDenied }
            }
            let all = webhooks.all.filter {
                $0.organization == organization && $0.scope == scope && (scope != "user" || $0.user == user)
                    && (scope != "group" || $0.group == group)
            }
            return try json(paginate(all.map(StandInShapes.webhookSubscription), count: count, offset: offset, request: request))
        }
        router.get("/webhook_subscriptions/:uuid") { request, context -> Response in
            let me = try authenticate(request, state)
            guard let found = webhooks.subscription(uuid: context.parameters.get("uuid") ?? ""), sees(me, found, state) else {
                throw CalendlyProblem(.notFound, "Resource Not Found", "The webhook subscription was not found")
            }
            return try json(["resource": StandInShapes.webhookSubscription(found)])
        }
        router.delete("/webhook_subscriptions/:uuid") { request, context -> Response in
            let me = try authenticate(request, state)
            guard let found = webhooks.subscription(uuid: context.parameters.get("uuid") ?? ""), sees(me, found, state) else {
                throw CalendlyProblem(.notFound, "Resource Not Found", "The webhook subscription was not found")
            }
            webhooks.remove(uuid: found.uuid)
            return Response(status: .noContent)
        }
        router.post("/_sim/webhooks/fail") { request, context -> HTTPResponse.Status in
            let body = try await request.decode(as: FailSwitch.self, context: context)
            webhooks.fail(url: body.url, after: body.after)
            return .noContent
        }
        router.post("/_sim/webhooks/drop") { request, context -> HTTPResponse.Status in
            let body = try await request.decode(as: DropSwitch.self, context: context)
            guard (0...1).contains(body.fraction) else { throw HTTPError(.badRequest, message: "fraction is 0 to 1") }
            webhooks.drop(fraction: body.fraction, seed: body.seed ?? 0, url: body.url)
            return .noContent
        }
        router.get("/_sim/webhooks/history") { _, _ -> Response in
            try json(["history": webhooks.history.map { ["action": $0.action, "uri": $0.uri, "callback_url": $0.callbackURL] as StandInShapes.Object }])
        }
        router.get("/_sim/webhooks/delivered") { _, _ -> Response in
            try json(webhooks.counts.mapValues { ["sent": $0.sent, "failed": $0.failed, "dropped": $0.dropped] as StandInShapes.Object })
        }
    }

    /// `count` (1 to 100, default 20) and `page_token` (an offset the stand-in gave); out of
    /// range is a 400, never clamped.
    static func pageParameters(_ query: FlatDictionary<Substring, Substring>) throws -> (count: Int, offset: Int) {
        var count = 20, offset = 0
        if let text = query["count"] {
            guard let value = Int(String(text)), (1...100).contains(value) else {
                throw CalendlyProblem.invalid("count", "must be an integer from 1 to 100")
            }
            count = value
        }
        if let text = query["page_token"] {
            guard let value = Int(String(text)), value >= 0 else { throw CalendlyProblem.invalid("page_token", "is invalid") }
            offset = value
        }
        return (count, offset)
    }

    /// One page of `items`; its links keep the request's other parameters.
    static func paginate(_ items: [StandInShapes.Object], count: Int, offset: Int, request: Request) -> StandInShapes.Object {
        let page = Array(items.dropFirst(offset).prefix(count))
        let next = offset + count < items.count ? String(offset + count) : nil
        let previous = offset > 0 ? String(max(0, offset - count)) : nil
        let others = (request.uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("page_token=") }.joined(separator: "&")
        return StandInShapes.page(page, path: request.uri.path + (others.isEmpty ? "" : "?\(others)"), next: next, previous: previous)
    }
}
