import AvailClient
import AvailCore
import AvailStore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import ServiceLifecycle

/// The expert's Availability Management page, `/experts/{id}/availability-settings`: rendered
/// here, signed in with the expert's token (kept in a cookie), changed through the JSON API by a
/// little script, kept live by a Server-Sent Events stream the projector feeds.
struct SettingsPageController: Sendable {
    let readModels: any ReadModelQueries
    let service: AvailabilityService
    /// The expert's Calendly account: its event types, and whether accounts can be connected.
    let connections: CalendlyConnections
    let authentication: AuthenticationMiddleware
    /// The expert's calendar feeds, listed (never their URLs) on the page.
    let calendarFeeds: any CalendarFeedStore
    /// How far the expert's bookings have been compared with Calendly's API.
    let reconciliation: any ReconcileProgressStore
    /// The organization token's webhook subscriptions and every subscription's last check.
    let subscriptionRecords: any SubscriptionStore
    let feed: ExpertChangeFeed
    /// Event streams one expert may hold open at once.
    var maxStreamsPerExpert = 8
    /// How often an open stream checks that its token is still valid (and writes a comment).
    var tokenRecheck: Duration = .seconds(5)

    func addRoutes(to router: Router<AvailRequestContext>) {
        router.get("/experts/:id/availability-settings") { request, context in try await self.page(request, context: context) }
        router.post("/experts/:id/availability-settings/sign-in") { request, context in try await self.signIn(request, context: context) }
        router.post("/experts/:id/availability-settings/sign-out") { request, context in try await self.signOut(request, context: context) }
        router.get("/experts/:id/availability-settings/appointments") { request, context in
            let (expert, _) = try await self.signedIn(request, context: context)
            return Self.html(PageTemplates.library.render(try await self.appointmentsView(expert), withTemplate: "appointments") ?? "")
        }
        router.get("/experts/:id/availability-settings/stream") { request, context in try await self.stream(request, context: context) }
        router.get("/assets/settings.css") { _, _ in Self.asset(PageAssets.css, type: "text/css; charset=utf-8") }
        router.get("/assets/settings.js") { _, _ in Self.asset(PageAssets.script, type: "text/javascript; charset=utf-8") }
    }

    // MARK: Routes

    func page(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let (csrf, csrfCookie) = WebSession.csrfToken(of: request)
        var response: Response
        if let principal = try await sessionPrincipal(request), principal.mayAccess(expert: id),
           let expert = try await readModels.expert(id: id) {
            response = Self.html(PageTemplates.library.render(try await settingsView(expert, csrf: csrf), withTemplate: "settings") ?? "")
        } else {
            response = Self.html(PageTemplates.library.render(SignInView(expertID: id, csrf: csrf, error: nil), withTemplate: "sign-in") ?? "")
        }
        if let csrfCookie { response.setCookie(csrfCookie) }
        return response
    }

    struct SignInForm: Decodable {
        var token: String
        var csrfToken: String?

        enum CodingKeys: String, CodingKey {
            case token
            case csrfToken = "csrf_token"
        }
    }

    func signIn(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let form = try await Self.form(SignInForm.self, from: request)
        try WebSession.checkCSRF(request, presented: form.csrfToken)
        let token = form.token.trimmingCharacters(in: .whitespacesAndNewlines)
        let principal = try? await authentication.principal(for: token.isEmpty ? nil : token)
        guard let principal, principal.mayAccess(expert: id), try await readModels.expert(id: id) != nil else {
            let (csrf, _) = WebSession.csrfToken(of: request)
            let view = SignInView(expertID: id, csrf: csrf, error: "That token does not sign in to \(id). Check it and try again.")
            return Self.html(PageTemplates.library.render(view, withTemplate: "sign-in") ?? "", status: .unauthorized)
        }
        var response = Self.redirect(to: "/experts/\(id)/availability-settings")
        response.setCookie(WebSession.signIn(token, for: request))
        return response
    }

    struct SignOutForm: Decodable {
        var csrfToken: String?
        enum CodingKeys: String, CodingKey { case csrfToken = "csrf_token" }
    }

    func signOut(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        let form = try await Self.form(SignOutForm.self, from: request)
        try WebSession.checkCSRF(request, presented: form.csrfToken)
        var response = Self.redirect(to: "/experts/\(id)/availability-settings")
        response.setCookie(WebSession.signOut)
        return response
    }

    /// `text/event-stream`: `event: changed` whenever the projector applied a change of this
    /// expert's (data: the log position), a comment every few seconds otherwise. Ends when the
    /// page goes, the daemon stops, or the session's token is revoked: at once over HTTP, at the
    /// next check (`tokenRecheck`, and on every change) when another process revoked it.
    func stream(_ request: Request, context: AvailRequestContext) async throws -> Response {
        let (expert, _) = try await signedIn(request, context: context)
        let session = request.cookies[WebSession.sessionCookie]?.value ?? ""
        guard let changes = feed.changes(
            of: expert.id, token: ExpertToken(bearer: session)?.id, limit: maxStreamsPerExpert, heartbeat: tokenRecheck)
        else {
            throw Problem(
                .tooManyRequests, code: .tooManyStreams,
                detail: "expert \(expert.id) has \(maxStreamsPerExpert) event streams open already; close a page and retry")
        }
        let feed = self.feed
        let authentication = self.authentication
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                try await withGracefulShutdownHandler {
                    try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
                    for await news in changes {
                        let principal = try? await authentication.principal(for: session)
                        guard principal?.mayAccess(expert: expert.id) == true else { break }
                        switch news {
                        case .changed(let position): try await writer.write(ByteBuffer(string: "event: changed\ndata: \(position)\n\n"))
                        case .heartbeat: try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                        }
                    }
                    try await writer.finish(nil)
                } onGracefulShutdown: {
                    feed.finish()
                }
            })
    }

    // MARK: Views

    struct SignInView {
        var expertID: String
        var csrf: String
        var error: String?
        var title = "Sign in"
    }

    struct SettingsView {
        var title = "Availability settings"
        var expert: ExpertProfile
        var csrf: String
        var showCalendly: Bool
        var showNative: Bool
        var integrationLabel: String
        var calendly: CalendlyView?
        /// The expert's own Calendly account, when connected.
        var account: AccountView?
        /// Whether this availd can connect a Calendly account (an OAuth app is configured).
        var oauthAvailable: Bool
        var eventLinkValue: String
        var native: NativeView
        var zones: [Zone]
        var slots: [String]
        var slotsZone: String
        var slotsError: String?
        var upcoming: AppointmentsView
        var feeds: CalendarFeedsView
    }

    struct CalendlyView {
        var name: String
        var duration: Int?
        var link: String
        var connectedAt: String
        /// Whether a webhook subscription of the organization delivers the expert's bookings, as
        /// a sentence.
        var subscription: String
        var subscriptionState: String
    }

    struct AccountView {
        var name: String
        var email: String
        var connectedAt: String
        var needsReconnect: Bool
        /// The webhook subscription's state, as a sentence.
        var subscription: String
        var subscriptionState: String
        /// The last comparison with Calendly's API, as a sentence.
        var reconciled: String
        var eventTypes: [EventTypeOption]
        var hasEventTypes: Bool
        /// Why the event types could not be listed, if they could not.
        var eventTypesError: String?
    }

    struct EventTypeOption {
        var uri: String
        var name: String
        var duration: Int
        var chosen: Bool
        var inactive: Bool
    }

    struct NativeView {
        var duration: Int
        var weekdays: [WeekdayRow]
        var overrides: [OverrideRow]
    }

    struct WeekdayRow {
        var key: String
        var label: String
        var enabled: Bool
        /// At least one, so a day off still has hours to switch on.
        var intervals: [IntervalRow]
    }

    struct IntervalRow {
        var label: String
        var from: String
        var to: String
    }

    struct OverrideRow {
        var date: String
        var from: String
        var to: String
        var off: Bool
    }

    struct Zone {
        var name: String
        var selected: Bool
    }

    struct AppointmentRow {
        var id: String
        var when: String
        var invitee: String
        var status: String
        var statusLabel: String
        var noShow: Bool
        var movedTo: String?
    }

    /// Mustache sees stored properties only, so the emptiness is stored too.
    struct AppointmentsView {
        let appointments: [AppointmentRow]
        let hasAppointments: Bool

        init(appointments: [AppointmentRow]) {
            self.appointments = appointments
            self.hasAppointments = !appointments.isEmpty
        }
    }

    func settingsView(_ expert: ExpertProfile, csrf: String) async throws -> SettingsView {
        let zone = TimeZone(identifier: expert.nativeSchedule?.timezone ?? expert.timezone) ?? .gmt
        let format = Self.wallClock(in: zone)
        let (slots, slotsError) = await slotPreview(expert, format: format)
        let account = await accountView(expert, format: format)
        var calendly: CalendlyView?
        if expert.integrationType == .calendly, let config = expert.calendlyConfig {
            let (subscription, state) = await organizationSubscription(for: config, format: format)
            calendly = CalendlyView(
                name: config.eventTypeName ?? "your Calendly event", duration: config.durationMinutes,
                link: config.eventLink, connectedAt: format(config.connectedAt), subscription: subscription, subscriptionState: state)
        }
        return SettingsView(
            expert: expert, csrf: csrf,
            showCalendly: expert.integrationType != .native, showNative: expert.integrationType == .native,
            integrationLabel: Self.label(expert.integrationType),
            calendly: calendly,
            account: account, oauthAvailable: connections.app != nil,
            eventLinkValue: expert.integrationType == .calendly ? expert.calendlyConfig?.eventLink ?? "" : "",
            native: Self.nativeView(expert.nativeSchedule),
            zones: NativeSchedule.knownZones.sorted().map { Zone(name: $0, selected: $0 == (expert.nativeSchedule?.timezone ?? expert.timezone)) },
            slots: slots, slotsZone: zone.identifier, slotsError: slotsError,
            upcoming: try await appointmentsView(expert),
            feeds: try await calendarFeedsView(expert, format: Self.wallClock(in: TimeZone(identifier: expert.timezone) ?? .gmt)))
    }

    /// The connected account and its event types as Calendly lists them now (a tick for each
    /// the expert offers).
    func accountView(_ expert: ExpertProfile, format: (Timestamp) -> String) async -> AccountView? {
        guard let account = expert.calendlyAccount else { return nil }
        let chosen = Set(expert.integrationType == .calendly ? expert.calendlyConfig?.eventTypeURIs ?? [] : [])
        var options: [EventTypeOption] = []
        var failure: String?
        if account.status == .connected {
            do {
                options = try await connections.eventTypes(of: expert).map {
                    EventTypeOption(uri: $0.uri, name: $0.name, duration: $0.duration, chosen: chosen.contains($0.uri.nfc), inactive: $0.active == false)
                }
            } catch {
                failure = "Your event types could not be read from Calendly\(Problem(refusal: error).map { ": \($0.detail)" } ?? ".")"
            }
        }
        return AccountView(
            name: account.name ?? account.userURI, email: account.email ?? "", connectedAt: format(account.connectedAt),
            needsReconnect: account.status == .needsReconnect,
            subscription: Self.describe(account.subscription, format: format), subscriptionState: account.subscription?.state ?? "none",
            reconciled: Self.describe(
                (try? await reconciliation.load(expertID: expert.id)).flatMap { $0?.userURI == account.userURI ? $0 : nil }, format: format),
            eventTypes: options, hasEventTypes: !options.isEmpty,
            eventTypesError: failure)
    }

    /// The organization token's subscription that delivers the bookings of `config`'s user (one
    /// of the organization, or that user's own), with its last check: a sentence and its state.
    func organizationSubscription(for config: CalendlyConfig, format: (Timestamp) -> String) async -> (String, String) {
        let known = (try? await subscriptionRecords.organizationSubscriptions()) ?? []
        let covering = known.filter { $0.scope == .organization || ($0.user != nil && $0.user == config.userURI) }
        let checks = (try? await subscriptionRecords.checks()) ?? [:]
        guard let subscription = covering.first(where: { checks[$0.uri]?.state == "active" }) ?? covering.first else {
            return (
                "No webhook subscription of your organization reaches availd, so it learns of your bookings only when it compares with Calendly (every hour); its operator makes one with availd calendly subscribe.",
                "none")
        }
        guard let check = checks[subscription.uri] else {
            return ("Your organization's webhook subscription has not been checked yet.", "unknown")
        }
        switch check.state {
        case "active":
            return ("Calendly tells availd of your bookings as they happen (your organization's webhook subscription, active when checked at \(format(check.checkedAt))).", "active")
        default:
            return ("Calendly stopped sending your organization's bookings (subscription \(check.state) when checked at \(format(check.checkedAt))); availd replaces it at its next check.", check.state)
        }
    }

    static func describe(_ progress: ReconcileProgress?, format: (Timestamp) -> String) -> String {
        guard let done = progress?.completedAt else {
            return "availd has not yet compared your bookings with Calendly's; it does so within the hour."
        }
        let compared = "availd last compared your bookings with Calendly's at \(format(done)), and added what webhooks had missed."
        guard let error = progress?.lastError else { return compared }
        return compared + " The comparison since then stopped (\(error)); availd tries again."
    }

    static func describe(_ subscription: CalendlyAccount.Subscription?, format: (Timestamp) -> String) -> String {
        guard let subscription else {
            return "No webhook subscription yet, so Calendly does not tell availd of new bookings; availd tries again at its next check."
        }
        switch subscription.state {
        case "active": return "Calendly tells availd of bookings as they happen (webhook subscription active since \(format(subscription.since)))."
        default: return "Calendly stopped sending bookings (subscription \(subscription.state)); availd replaces it at its next check."
        }
    }

    func appointmentsView(_ expert: ExpertProfile) async throws -> AppointmentsView {
        let format = Self.wallClock(in: TimeZone(identifier: expert.timezone) ?? .gmt)
        let now = Timestamp.now()
        let page = try await readModels.appointments(AppointmentQuery(
            expertID: expert.id, from: Timestamp(microseconds: now.microseconds - 86_400_000_000), limit: 50))
        return AppointmentsView(appointments: page.appointments.map { appointment in
            AppointmentRow(
                id: appointment.id,
                when: appointment.startTime.map(format) ?? "time unknown",
                invitee: appointment.invitee.name ?? "someone",
                status: appointment.status.rawValue,
                statusLabel: appointment.status.rawValue.capitalized,
                noShow: appointment.noShow,
                movedTo: appointment.status == .rescheduled ? appointment.rescheduledTo : nil)
        })
    }

    /// The next few free slots, from the expert's own strategy.
    func slotPreview(_ expert: ExpertProfile, format: (Timestamp) -> String) async -> ([String], String?) {
        guard expert.integrationType != .none else { return ([], "Connect Calendly or set your own schedule to offer slots.") }
        let now = Timestamp.now()
        let range = TimeRange(start: now, end: Timestamp(microseconds: now.microseconds + 7 * 86_400_000_000))
        do {
            let strategy = service.strategy(for: expert.integrationType)
            let offered = expert.integrationType == .calendly ? expert.calendlyConfig?.eventTypes ?? [] : []
            guard offered.count > 1 else {
                return (try await strategy.slots(for: expert, eventType: nil, in: range).prefix(8).map { format($0.start) }, nil)
            }
            // Several event types: the next few of each, named.
            var lines: [String] = []
            for eventType in offered {
                let slots = try await strategy.slots(for: expert, eventType: eventType.uri, in: range)
                let label = "\(eventType.name ?? "Event")\(eventType.durationMinutes.map { " (\($0) min)" } ?? "")"
                lines += slots.prefix(4).map { "\(format($0.start)) · \(label)" }
            }
            return (lines, nil)
        } catch {
            return ([], "Slots are not available right now\(Problem(refusal: error).map { ": \($0.detail)" } ?? ".")")
        }
    }

    static func label(_ integration: IntegrationType) -> String {
        switch integration {
        case .calendly: "Calendly"
        case .native: "my own schedule"
        case .none: "not connected: clients cannot book you yet"
        }
    }

    static func nativeView(_ schedule: NativeSchedule?) -> NativeView {
        let order: [Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday, .saturday, .sunday]
        var weekdays: [WeekdayRow] = []
        var overrides: [OverrideRow] = []
        for day in order {
            let label = day.rawValue.capitalized
            let intervals = schedule?.rules.first { $0.day == .weekday(day) }?.intervals ?? []
            let workday = schedule == nil && day != .saturday && day != .sunday
            let rows = intervals.isEmpty
                ? [IntervalRow(label: label, from: "09:00", to: "17:00")]
                : intervals.map { IntervalRow(label: label, from: clock($0.from), to: clock($0.to)) }
            weekdays.append(WeekdayRow(key: day.rawValue, label: label, enabled: !intervals.isEmpty || workday, intervals: rows))
        }
        for rule in schedule?.rules ?? [] {
            guard case .date(let date) = rule.day else { continue }
            let interval = rule.intervals.first
            overrides.append(OverrideRow(
                date: date.description, from: interval.map { clock($0.from) } ?? "09:00",
                to: interval.map { clock($0.to) } ?? "17:00", off: interval == nil))
        }
        return NativeView(duration: schedule?.durationMinutes ?? 30, weekdays: weekdays, overrides: overrides)
    }

    // MARK: Helpers

    /// The signed-in expert the path names; 401 without a session, 404 for another expert.
    private func signedIn(_ request: Request, context: AvailRequestContext) async throws -> (ExpertProfile, Principal) {
        let id = try ExpertID.validate(context.parameters.get("id") ?? "")
        guard let principal = try await sessionPrincipal(request) else { throw Problem.unauthorized() }
        try principal.requireAccess(toExpert: id)
        guard let expert = try await readModels.expert(id: id) else { throw Problem.notFound("no expert \(id)") }
        return (expert, principal)
    }

    private func sessionPrincipal(_ request: Request) async throws -> Principal? {
        guard let token = request.cookies[WebSession.sessionCookie]?.value, !token.isEmpty else { return nil }
        return try? await authentication.principal(for: token)
    }

    static func form<Form: Decodable>(_ type: Form.Type, from request: Request) async throws -> Form {
        let buffer = try await request.body.collect(upTo: 16_384)
        do {
            return try URLEncodedFormDecoder().decode(Form.self, from: String(buffer: buffer))
        } catch {
            throw Problem(.badRequest, code: .invalidForm, detail: "the form could not be read")
        }
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: pageHeaders, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        .init("Content-Security-Policy")!: "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("Referrer-Policy")!: "no-referrer",
    ]

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300", .init("X-Content-Type-Options")!: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `Wed 2 Dec, 14:00` in `zone`; made once per page, not per time shown.
    static func wallClock(in zone: TimeZone) -> (Timestamp) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = zone
        formatter.dateFormat = "EEE d MMM, HH:mm"
        return { formatter.string(from: Date(timeIntervalSince1970: Double($0.microseconds) / 1_000_000)) }
    }

    static func clock(_ minutes: Int) -> String {
        String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }
}
