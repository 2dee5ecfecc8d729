import AvailClient
import AvailCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A local HTTP server that speaks the part of Calendly's API v2 and OAuth 2 availd calls: the
/// stand-in tests, the demo and benchmarks use instead of `api.calendly.com` and
/// `auth.calendly.com`. It is never kinder than Calendly: where Calendly's documentation leaves a behaviour
/// undocumented, it does the stricter thing (and says so where it does).
///
/// Served so far: `GET /users/me`, `GET /users/{uuid}`, `GET /event_types` (by user or
/// organization, paginated), `GET /event_type_available_times` (the owner's working hours,
/// Monday to Friday, less what is booked), `POST /invitees`, `GET /scheduled_events` (exactly one
/// of `user`, `organization`, `group`; `min_start_time`, `max_start_time`, `status`,
/// `invitee_email`, `sort=start_time:asc|desc`; paginated), `GET /scheduled_events/{uuid}`,
/// `POST /scheduled_events/{uuid}/cancellation`, `GET /scheduled_events/{uuid}/invitees`
/// (`status`, `email`, `sort=created_at:asc|desc`; paginated) and
/// `GET /scheduled_events/{uuid}/invitees/{uuid}`, each in Calendly's own shape
/// (`StandInShapes`). Pages take `count` 1–100 (default 20; outside that, 400) and `page_token`.
/// A token (a seeded one, or an OAuth access token) acts as its user: an owner or admin of an
/// organization on everything in it, a plain user on their own things only
/// (`StandInState.permits`).
///
/// Webhook subscriptions (`StandInWebhookRoutes`): `POST /webhook_subscriptions` (scope `user`
/// with that user's own token, `organization` by an owner or admin; `group` is 404, the seed has
/// no groups; the same URL for the same scope again, even when the first is disabled, is 409),
/// `GET /webhook_subscriptions?organization=&scope=&user=` (paginated),
/// `GET|DELETE /webhook_subscriptions/{uuid}`. Each booking, cancellation and reschedule
/// (`StandInDeliveries`) goes to every active subscription whose scope covers the event type's
/// owner and whose `events` include it, signed with its `signing_key`, else (created with an
/// OAuth access token) the app's `webhook_signing_key`, else the organization's key (seed
/// `webhook_signing_keys`, or `standin-webhook-key-<organization uuid>`); `created_by` is the
/// subscription's creator.
/// A 410 deletes the subscription; any other non-2xx answer (a redirect too, none is followed) or
/// no answer is a failure, and 5 in a row (the stand-in's "24 hours of retries") disable it.
///
/// Rate limits (`StandInRateLimits`), per user per fixed minute: 500 API requests (seed
/// `rate_limit_per_minute`), `POST /invitees` 10 (`invitees_per_minute`), `POST /oauth/token` 8
/// (`token_per_minute`). Every API answer to a valid token carries `X-RateLimit-Limit`,
/// `-Remaining` and `-Reset` (seconds); past a limit, 429 `{title: "Too Many Requests", message}`,
/// or from the token endpoint `{error: "rate_limited", error_description}`.
///
/// OAuth (`StandInOAuthRoutes`): `GET|POST /oauth/authorize` (a consent page whose "signed-in
/// user" is chosen from the seed), `POST /oauth/token` (`authorization_code` with PKCE,
/// `refresh_token`, single-use and rotating), `POST /oauth/revoke`, `POST /oauth/introspect`,
/// for the apps of the seed's `oauth_apps`.
///
/// Bookings, cancellations and reschedules are also sent as signed webhooks to the one target set
/// with `POST /_sim/webhooks {url, signing_key}` (as before subscriptions existed).
///
/// Calendly has no reschedule API: an invitee reschedules through its `reschedule_url`, which
/// `POST /_sim/reschedule {invitee, start_time}` (`StandInReschedule`) stands for. It answers 201
/// `{old_invitee, new_invitee, new_event}`, or 400 for a canceled or unknown invitee or a time
/// that is not RFC 3339 or not free (the old booking still holds its own). As Calendly does, the
/// old invitee and its event are then canceled by the invitee (`canceler_type: invitee`,
/// `updated_at` the cancellation's time) with `rescheduled: true` and `new_invitee`, the new
/// invitee is on a new scheduled event with `old_invitee`, every API answer and payload says so,
/// and two deliveries go out by the same way as a booking's: `invitee.canceled` for the old
/// invitee and `invitee.created` for the new (Calendly documents no order).
///
/// Tests queue failures (`POST /_sim/failures`: 429 with `X-RateLimit-Reset`, 5xx, slow answers,
/// or a slow but good one with status 200, by path prefix, `/oauth/token` included) and read how often a path was called
/// (`GET /_sim/requests?path=`; without `path`, how many requests came at all). Delivery
/// switches: `POST /_sim/webhooks/fail {url, after}` (deliveries to that URL fail as a 500
/// would, and after `after` of them its subscriptions are disabled, `retry_started_at` the first
/// failure's time), `POST /_sim/webhooks/drop {fraction, seed?, url?}` (that fraction of subscription
/// deliveries, to `url` only if given, is lost, the same ones for the same seed), `GET /_sim/webhooks/delivered`
/// (`{url: {sent, failed, dropped}}`), `GET /_sim/webhooks/history` (`{history: [{action:
/// created|disabled|deleted, uri, callback_url}]}`, every change to a subscription in order). `POST /_sim/rate_limits {per_minute?,
/// invitees_per_minute?, token_per_minute?}` sets the limits and starts new windows. OAuth controls:
/// `POST /_sim/oauth/apps {client_id, client_secret, redirect_uris, webhook_signing_key?}` registers or replaces an
/// app, `POST /_sim/oauth/settings {access_token_lifetime?, code_lifetime?}` (seconds),
/// `POST /_sim/oauth/revoke_user {user}` revokes every grant of a user, and
/// `GET /_sim/oauth/grants` counts `{authorization_code, refresh_token, invalid_grant}`, and
/// `GET /_sim/oauth/tokens` lists `{tokens}`, every access and refresh token issued.
public enum CalendlyStandIn {
    public static func buildApplication(
        seed: StandInSeed, host: String = "127.0.0.1", port: Int = 0, logger: Logger = Logger(label: "calendly-stand-in"),
        accessTokenLifetime: Int = 7200, onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let state = StandInState(seed: seed, accessTokenLifetime: accessTokenLifetime)
        let bookings = StandInBookings()
        for existing in seed.bookings ?? [] { seedBooking(existing, seed: seed, into: bookings) }
        let dispatcher = WebhookDispatcher(logger: logger)
        let webhooks = StandInWebhooks(logger: logger)
        let deliveries = StandInDeliveries(dispatcher: dispatcher, webhooks: webhooks, state: state)
        let router = Router()
        router.add(middleware: FailureMiddleware(state: state))
        router.add(middleware: RateLimitMiddleware(state: state))
        router.post("/_sim/rate_limits") { request, context -> HTTPResponse.Status in
            let limits = try await request.decode(as: RateLimitSettings.self, context: context)
            guard [limits.perMinute, limits.inviteesPerMinute, limits.tokenPerMinute].allSatisfy({ ($0 ?? 1) >= 0 }) else {
                throw HTTPError(.badRequest, message: "Limits are requests a minute, zero or more")
            }
            state.rateLimits.set(perMinute: limits.perMinute, inviteesPerMinute: limits.inviteesPerMinute, tokenPerMinute: limits.tokenPerMinute)
            return .noContent
        }
        router.post("/_sim/failures") { request, context -> HTTPResponse.Status in
            let failures = try await request.decode(as: [InjectedFailure].self, context: context)
            state.inject(failures)
            return .noContent
        }
        router.get("/_sim/requests") { request, _ -> String in
            String(state.requestCount(request.uri.queryParameters["path"].map(String.init)))
        }
        addOAuthRoutes(to: router, state: state)
        addWebhookRoutes(to: router, state: state, webhooks: webhooks)
        addEventListRoutes(to: router, state: state, bookings: bookings)
        addRescheduleRoute(to: router, seed: seed, bookings: bookings, deliveries: deliveries)
        router.get("/users/me") { request, _ -> Response in
            let me = try authenticate(request, state)
            return try json(["resource": StandInShapes.user(me.user)])
        }
        router.get("/users/:user") { request, context -> Response in
            let me = try authenticate(request, state)
            let uri = "https://api.calendly.com/users/\(context.parameters.get("user") ?? "")"
            // Another organization's user is as unknown as one that does not exist.
            guard let user = state.member(uri: uri), user.organization == me.organization else {
                throw CalendlyProblem(.notFound, "Resource Not Found", "The user was not found")
            }
            return try json(["resource": StandInShapes.user(user.user)])
        }
        router.get("/event_types") { request, _ -> Response in
            let me = try authenticate(request, state)
            let query = request.uri.queryParameters
            let all: [CalendlyEventType]
            if let user = query["user"].map(String.init) {
                guard state.permits(me, on: user) else { throw permissionDenied }
                all = seed.eventTypes.filter { $0.profile?.owner == user }
            } else if let organization = query["organization"].map(String.init) {
                guard me.isAdmin, organization == me.organization else { throw permissionDenied }
                all = seed.eventTypes.filter { state.member(uri: $0.profile?.owner)?.organization == organization }
            } else {
                throw CalendlyProblem(.badRequest, "Invalid Argument", "user or organization is required")
            }
            let (count, offset) = try pageParameters(query)
            let items = all.map { eventType in
                StandInShapes.eventType(eventType, owner: seed.users.first { $0.user.uri == eventType.profile?.owner }?.user)
            }
            return try json(paginate(items, count: count, offset: offset, request: request))
        }
        router.get("/event_type_available_times") { request, _ -> Response in
            let me = try authenticate(request, state)
            let query = request.uri.queryParameters
            guard let uri = query["event_type"].map(String.init), let eventType = seed.eventTypes.first(where: { $0.uri == uri }) else {
                throw CalendlyProblem(.notFound, "Resource Not Found", "The event type was not found")
            }
            guard state.permits(me, on: eventType.profile?.owner) else { throw permissionDenied }
            guard let start = query["start_time"].flatMap({ Timestamp(rfc3339: String($0)) }),
                let end = query["end_time"].flatMap({ Timestamp(rfc3339: String($0)) }), start < end
            else { throw CalendlyProblem(.badRequest, "Invalid Argument", "start_time and end_time are required") }
            guard start.microseconds >= Timestamp.now().microseconds - 60_000_000 else {
                throw CalendlyProblem(.badRequest, "Invalid Argument", "start_time must be in the future")
            }
            guard end.microseconds - start.microseconds <= Int64(seed.availableTimesMaxDays) * 86_400_000_000 else {
                throw CalendlyProblem(.badRequest, "Invalid Argument", "The supplied parameters are invalid: date range can be no greater than \(seed.availableTimesMaxDays) days")
            }
            let slots = try calculator(eventType, seed).slots(in: TimeRange(start: start, end: end), now: .now(), busy: bookings.busy(eventType: uri))
            // Not paginated: a collection alone.
            return try json(["collection": slots.map { StandInShapes.availableTime(start: $0.start, schedulingURL: eventType.schedulingURL) }])
        }
        router.post("/_sim/webhooks") { request, context -> HTTPResponse.Status in
            dispatcher.configure(try await request.decode(as: WebhookDispatcher.Settings.self, context: context))
            return .noContent
        }
        router.get("/_sim/webhooks/outstanding") { _, _ -> String in
            String(dispatcher.outstanding)
        }
        router.post("/invitees") { request, context -> Response in
            let me = try authenticate(request, state)
            let booking = try await request.decode(as: BookingBody.self, context: context)
            guard let eventType = seed.eventTypes.first(where: { $0.uri == booking.eventType }),
                let owner = seed.users.first(where: { $0.user.uri == eventType.profile?.owner })?.user
            else { throw CalendlyProblem(.badRequest, "Invalid Argument", "The event type was not found") }
            guard state.permits(me, on: owner.uri) else { throw permissionDenied }
            guard let start = Timestamp(rfc3339: booking.startTime) else {
                throw CalendlyProblem(.badRequest, "Invalid Argument", "start_time is invalid")
            }
            guard try calculator(eventType, seed).offers(start, now: .now(), busy: bookings.busy(eventType: eventType.uri)) else {
                throw CalendlyProblem(.badRequest, "Invalid Argument", "The selected time is no longer available")
            }
            let booked = bookings.book(
                eventType, owner: owner, start: start, name: booking.invitee.name, email: booking.invitee.email,
                timezone: booking.invitee.timezone)
            try await deliveries.deliver("invitee.created", booked, by: me.user)
            var response = try json(["resource": StandInShapes.invitee(booked)])
            response.status = .created
            return response
        }
        router.post("/scheduled_events/:event/cancellation") { request, context -> Response in
            let me = try authenticate(request, state)
            let body = try? await request.decode(as: CancellationBody.self, context: context)
            let uuid = context.parameters.get("event") ?? ""
            guard let booking = bookings.booking(eventUUID: uuid), state.permits(me, on: booking.host.uri) else {
                throw CalendlyProblem(.notFound, "Resource Not Found", "The event was not found")
            }
            guard let canceled = bookings.cancel(eventUUID: uuid, reason: body?.reason, by: me.user.name, at: .now()),
                let cancellation = canceled.cancellation
            else {
                throw CalendlyProblem(.forbidden, "Permission Denied", "The event is already canceled")
            }
            try await deliveries.deliver("invitee.canceled", canceled, by: me.user)
            var response = try json(["resource": StandInShapes.cancellation(cancellation)])
            response.status = .created
            return response
        }
        router.get("/scheduled_events/:event") { request, context -> Response in
            let me = try authenticate(request, state)
            guard let booking = bookings.booking(eventUUID: context.parameters.get("event") ?? ""), state.permits(me, on: booking.host.uri)
            else {
                throw CalendlyProblem(.notFound, "Resource Not Found", "The event was not found")
            }
            return try json(["resource": StandInShapes.scheduledEvent(booking)])
        }
        router.get("/scheduled_events/:event/invitees/:invitee") { request, context -> Response in
            let me = try authenticate(request, state)
            guard let booking = bookings.booking(eventUUID: context.parameters.get("event") ?? ""), state.permits(me, on: booking.host.uri),
                booking.invitee.uri.hasSuffix("/" + (context.parameters.get("invitee") ?? "-"))
            else { throw CalendlyProblem(.notFound, "Resource Not Found", "The invitee was not found") }
            return try json(["resource": StandInShapes.invitee(booking)])
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            services: [dispatcher],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    struct BookingBody: Decodable {
        var eventType: String
        var startTime: String
        var invitee: Person

        struct Person: Decodable {
            var email: String
            var name: String
            var timezone: String?
        }

        enum CodingKeys: String, CodingKey {
            case invitee
            case eventType = "event_type", startTime = "start_time"
        }
    }

    struct RateLimitSettings: Decodable {
        var perMinute: Int?
        var inviteesPerMinute: Int?
        var tokenPerMinute: Int?

        enum CodingKeys: String, CodingKey {
            case perMinute = "per_minute", inviteesPerMinute = "invitees_per_minute", tokenPerMinute = "token_per_minute"
        }
    }

    struct CancellationBody: Decodable {
        var reason: String?
    }

    /// Adds a seeded booking, in the same shape as one made through `POST /invitees`.
    static func seedBooking(_ existing: StandInSeed.ExistingBooking, seed: StandInSeed, into bookings: StandInBookings) {
        guard let eventType = seed.eventTypes.first(where: { $0.uri == existing.eventType }),
            let owner = seed.users.first(where: { $0.user.uri == eventType.profile?.owner })?.user,
            let start = relativeTime(existing.startTime)
        else { return }
        _ = bookings.book(eventType, owner: owner, start: start, name: existing.name, email: existing.email, timezone: nil)
    }

    /// The owner's working hours, Monday to Friday, in the owner's time zone.
    static func calculator(_ eventType: CalendlyEventType, _ seed: StandInSeed) throws -> SlotCalculator {
        let owner = seed.users.first { $0.user.uri == eventType.profile?.owner }?.user
        let hours = WallInterval(seed.workingHours.from, seed.workingHours.to)!
        return try SlotCalculator(schedule: NativeSchedule(
            timezone: owner?.timezone ?? "UTC", durationMinutes: eventType.duration,
            rules: [Weekday.monday, .tuesday, .wednesday, .thursday, .friday].map { ScheduleRule(.weekday($0), [hours]) }))
    }

    /// RFC 3339, or `+Nd HH:MM` in UTC from today.
    static func relativeTime(_ text: String) -> Timestamp? {
        if let time = Timestamp(rfc3339: text) { return time }
        let parts = text.split(separator: " ")
        guard parts.count == 2, parts[0].hasPrefix("+"), parts[0].hasSuffix("d"), let days = Int(parts[0].dropFirst().dropLast()),
            let minutes = WallInterval("00:00", String(parts[1]))?.to
        else { return nil }
        let today = Timestamp.now().unixSeconds / 86_400
        return Timestamp(microseconds: ((today + Int64(days)) * 86_400 + Int64(minutes) * 60) * 1_000_000)
    }

    /// A delivery body as Calendly sends it.
    static func envelope(_ event: String, _ booking: StandInBooking, by host: CalendlyUser) throws -> Data {
        try StandInShapes.data([
            "event": event, "created_at": "\(Timestamp.now())", "created_by": host.uri,
            "payload": StandInShapes.webhookPayload(booking),
        ])
    }

    /// The member the request's Bearer token acts as.
    static func authenticate(_ request: Request, _ state: StandInState) throws -> StandInMember {
        let header = request.headers[.authorization] ?? ""
        let authentication = header.hasPrefix("Bearer ") ? state.authenticate(token: String(header.dropFirst(7))) : .invalid
        switch authentication {
        case .member(let member): return member
        case .expired: throw CalendlyProblem(.unauthorized, "Unauthenticated", "The access token is expired")
        case .invalid: throw CalendlyProblem(.unauthorized, "Unauthenticated", "The access token is invalid")
        }
    }

    /// Calendly's answer to a token whose user may not touch what it asks for.
    static var permissionDenied: CalendlyProblem {
        CalendlyProblem(.forbidden, "Permission Denied", "You do not have permission to access this resource.")
    }

    static func json(_ object: StandInShapes.Object) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try StandInShapes.data(object))))
    }
}

/// An error in Calendly's shape, `{title, message}`.
struct CalendlyProblem: HTTPResponseError {
    var status: HTTPResponse.Status
    var title: String
    var message: String
    var headers: HTTPFields = [:]
    /// `details: [{parameter, message}]`, for an invalid argument.
    var details: [(parameter: String, message: String)]?

    init(
        _ status: HTTPResponse.Status, _ title: String, _ message: String, headers: HTTPFields = [:],
        details: [(parameter: String, message: String)]? = nil
    ) {
        self.status = status
        self.title = title
        self.message = message
        self.headers = headers
        self.details = details
    }

    /// 400 Invalid Argument naming the parameter.
    static func invalid(_ parameter: String, _ message: String) -> CalendlyProblem {
        CalendlyProblem(.badRequest, "Invalid Argument", "The supplied parameters are invalid.", details: [(parameter, message)])
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var object = StandInShapes.error(title: title, message: message)
        if let details { object["details"] = details.map { ["parameter": $0.parameter, "message": $0.message] } }
        var response = try CalendlyStandIn.json(object)
        response.status = status
        response.headers.append(contentsOf: headers)
        return response
    }
}

/// Answers queued failures before the route runs.
struct FailureMiddleware<Context: RequestContext>: RouterMiddleware {
    let state: StandInState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !request.uri.path.hasPrefix("/_sim"), let failure = state.nextFailure(for: request.uri.path) else {
            return try await next(request, context)
        }
        if let delay = failure.delayMilliseconds { try await Task.sleep(for: .milliseconds(delay)) }
        // A 200 "failure" is only slow: the real answer, after the delay.
        if failure.status == 200 { return try await next(request, context) }
        var headers: HTTPFields = [:]
        if let reset = failure.rateLimitReset { headers[HTTPField.Name("X-RateLimit-Reset")!] = reset }
        let status = HTTPResponse.Status(code: failure.status)
        throw CalendlyProblem(status, status.code == 429 ? "Too Many Requests" : "Internal Server Error", "injected by the stand-in", headers: headers)
    }
}
