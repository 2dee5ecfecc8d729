import AvailClient
import AvailCore
import AvailStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Brings the log up to date with what Calendly's API says, for what webhooks missed
/// (the README, "Staying in sync with Calendly").
///
/// For each expert connected to Calendly (their own account, or the organization token for
/// the user of their event types) it pages through `GET /scheduled_events?user=…` (both
/// statuses) from a window's start, reads each event's invitees, and appends a
/// `calendly.invitee_observed` event (source `reconcile`, `InviteeObservation`) for each
/// invitee whose state the fold would change: a missed `invitee.created`, a missed
/// cancellation, either half of a reschedule, a no-show. What the log already says appends
/// nothing.
///
/// Calendly filters events by **start** time only. So a pass's window starts where the last
/// complete pass *started*, less `lookback`: anything booked, canceled or rescheduled since
/// then starts after it, and the lookback covers no-shows marked after a meeting. The first
/// pass looks back `lookback` from now (and so takes in every upcoming booking of an account
/// just connected). An event that starts in the future and whose invitee counts the read models
/// already match (`invitees_counter`, by status) cannot have changed unseen: its invitees are
/// not asked for, which keeps a pass at a few requests per expert.
///
/// Progress is kept per expert (`ReconcileProgressStore`): a restart goes on from the page it
/// stopped at. Requests are paced to leave a reserve of each token's rate limit
/// (`X-RateLimit-Remaining`) for the expert's own traffic, and a 429 waits out
/// `X-RateLimit-Reset`.
///
/// As a service it reconciles one expert at a time, spread over `interval` (one expert every
/// `interval / experts`), most overdue first; `request` (after a subscription was replaced)
/// puts an expert first.
final class Reconciler: Service, Sendable {
    struct Settings: Sendable {
        var interval: Duration = .seconds(3600)
        var lookback: Duration = .seconds(86_400)
        var pageSize = 100
        /// Share of each window's rate limit left to the expert's own requests.
        var rateLimitReserve = 0.2
        /// A 429 (or a 5xx) is retried this often, waiting at most `maximumRateLimitWait`.
        var attempts = 8
        var maximumRateLimitWait: Duration = .seconds(60)
    }

    /// What one expert's pass found and did.
    struct ExpertReport: Sendable, Equatable {
        var expertID: String
        var events = 0
        var invitees = 0
        var appended = 0
        var requests = 0
        var complete = false
        var error: String?
    }

    let connections: CalendlyConnections
    let readModels: any ReadModelQueries
    let progress: any ReconcileProgressStore
    let settings: Settings
    let metrics: AvailMetrics?
    let logger: Logger
    /// Appends observations; returns which were new.
    let append: @Sendable ([NewEvent]) async throws -> [AppendOutcome]
    /// Returns once the read models include everything the log held when it was called.
    let caughtUp: @Sendable () async throws -> Void
    private let requested = Mutex<[ReconcileScope: Timestamp?]>([:])
    private let wake = WakeSignal()
    private let pacers = Mutex<[String: CalendlyRateLimitPacer]>([:])

    init(
        connections: CalendlyConnections, readModels: any ReadModelQueries, progress: any ReconcileProgressStore, settings: Settings,
        metrics: AvailMetrics?, logger: Logger, append: @escaping @Sendable ([NewEvent]) async throws -> [AppendOutcome],
        caughtUp: @escaping @Sendable () async throws -> Void
    ) {
        self.connections = connections
        self.readModels = readModels
        self.progress = progress
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.append = append
        self.caughtUp = caughtUp
    }

    // MARK: The service

    static let longestPause: Duration = .seconds(60)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let pause = await self.step()
                await self.wake.wait(timeout: pause)
            }
        }
    }

    /// Asks for `scope` (an expert, or everyone the organization token speaks for) to be
    /// reconciled next, from `since` (or the usual window, if earlier) on.
    func request(_ scope: ReconcileScope, since: Timestamp?) {
        requested.withLock { pending in
            let earlier = pending[scope].flatMap { $0 }
            pending[scope] = [earlier, since].compactMap { $0 }.min()
        }
        wake.signal()
    }

    /// Reconciles the expert that is asked for or most overdue, if any; how long to pause.
    func step() async -> Duration {
        let experts: [ExpertProfile]
        let known: [String: ReconcileProgress]
        do {
            experts = try await readModels.experts().values.filter(isReconcilable).sorted { $0.id < $1.id }
            known = Dictionary(uniqueKeysWithValues: try await progress.all().map { ($0.expertID, $0) })
        } catch {
            logger.warning("reconciliation could not read the experts", metadata: ["error": "\(error)"])
            return .seconds(30)
        }
        reportOldestPass(experts, known)
        guard !experts.isEmpty else { return min(settings.interval, Self.longestPause) }
        let spacing = settings.interval / experts.count
        if let (scope, since) = requested.withLock({ pending in pending.popFirst() }) {
            let chosen: [ExpertProfile]
            switch scope {
            case .expert(let id): chosen = experts.filter { $0.id == id }
            case .organizationToken: chosen = experts.filter { $0.calendlyAccount == nil }
            }
            for expert in chosen where !Task.isCancelled { _ = await reconcile(expert, since: since, explicit: false) }
            return .zero
        }
        let now = Timestamp.now()
        func dueAt(_ expert: ExpertProfile) -> Int64 {
            guard let state = known[expert.id], state.userURI == user(of: expert), !state.isUnderWay, let done = state.completedAt
            else { return Int64.min }
            return done.microseconds + settings.interval.microseconds
        }
        guard let next = experts.min(by: { dueAt($0) < dueAt($1) }) else { return settings.interval }
        let due = dueAt(next)
        // Bounded, so an expert who connects meanwhile (due at once) waits at most that long.
        guard due <= now.microseconds else { return min(spacing, Self.longestPause, .microseconds(due - now.microseconds)) }
        _ = await reconcile(next, since: nil, explicit: false)
        return min(spacing, Self.longestPause)
    }

    private func reportOldestPass(_ experts: [ExpertProfile], _ known: [String: ReconcileProgress]) {
        let completed = experts.map { known[$0.id]?.completedAt }
        guard !completed.isEmpty, completed.allSatisfy({ $0 != nil }) else { return }
        metrics?.reconcileCovered(since: completed.compactMap { $0 }.min()!)
    }

    // MARK: One expert

    func isReconcilable(_ expert: ExpertProfile) -> Bool {
        if let account = expert.calendlyAccount { return account.status == .connected }
        return connections.organizationToken != nil && expert.integrationType == .calendly && expert.calendlyConfig?.userURI != nil
    }

    /// The Calendly user whose events are the expert's.
    func user(of expert: ExpertProfile) -> String? {
        expert.calendlyAccount?.userURI ?? expert.calendlyConfig?.userURI
    }

    /// One pass over `expert`'s events. `since` given `explicit`ly is the window's start;
    /// otherwise the window is the usual one (from an earlier `since`, if any), and a pass
    /// that was under way goes on from its page.
    func reconcile(_ expert: ExpertProfile, since: Timestamp?, explicit: Bool) async -> ExpertReport {
        var report = ExpertReport(expertID: expert.id)
        guard let user = user(of: expert), isReconcilable(expert) else {
            report.error = "not connected to Calendly"
            return report
        }
        let startedAt = Timestamp.now()
        var pageToken: String?
        let windowStart: Timestamp
        do {
            let stored = try await progress.load(expertID: expert.id).flatMap { $0.userURI == user ? $0 : nil }
            let usual = Timestamp(
                microseconds: (stored?.completedAt ?? startedAt).microseconds - settings.lookback.microseconds)
            if explicit, let since {
                windowStart = since
            } else if let stored, stored.isUnderWay, let resumed = stored.windowStart, since.map({ $0 >= resumed }) ?? true {
                windowStart = resumed
                pageToken = stored.pageToken
            } else {
                windowStart = [usual, since].compactMap { $0 }.min()!
            }
            if pageToken == nil {
                try await progress.begin(expertID: expert.id, userURI: user, windowStart: windowStart, at: startedAt)
            }
        } catch {
            report.error = "\(error)"
            return report
        }
        logger.debug(
            "reconciling",
            metadata: ["expert": "\(expert.id)", "since": "\(windowStart)", "resumed": "\(pageToken != nil)"])
        do {
            var resumedToken = pageToken
            while true {
                let page: CalendlyRawPage
                do {
                    page = try await call(for: expert, user: user, &report) { [pageToken, settings] client throws(CalendlyError) in
                        try await client.scheduledEvents(
                            user: user, minStartTime: windowStart.description, pageToken: pageToken, count: settings.pageSize)
                    }
                } catch CalendlyError.refused(400, _) where resumedToken != nil {
                    // The page a restart went on from is no longer Calendly's: start the window again.
                    resumedToken = nil
                    pageToken = nil
                    try await progress.begin(expertID: expert.id, userURI: user, windowStart: windowStart, at: startedAt)
                    continue
                }
                resumedToken = nil
                report.appended += try await reconcile(page: page.items, of: expert, user: user, &report)
                guard let next = page.nextPageToken else { break }
                pageToken = next
                try await progress.advance(expertID: expert.id, pageToken: next, at: .now())
            }
            try await progress.complete(expertID: expert.id, appended: report.appended, at: .now())
            report.complete = true
        } catch {
            report.error = Self.describe(error)
            try? await progress.failed(expertID: expert.id, error: report.error ?? "", at: .now())
            logger.warning("reconciliation stopped", metadata: ["expert": "\(expert.id)", "error": "\(report.error ?? "")"])
        }
        if report.appended > 0 {
            logger.info(
                "reconciliation appended what webhooks missed", metadata: ["expert": "\(expert.id)", "appended": "\(report.appended)"])
        }
        return report
    }

    /// Observes the invitees of one page of scheduled events and appends what the log does not
    /// say yet; the number appended.
    private func reconcile(page events: [Data], of expert: ExpertProfile, user: String, _ report: inout ExpertReport) async throws -> Int {
        let listed = events.compactMap(ListedEvent.init)
        report.events += listed.count
        let counts = try await readModels.inviteeCounts(ofScheduledEvents: Set(listed.map(\.uuid)))
        let now = Timestamp.now()
        var observations: [NewEvent] = []
        for event in listed {
            if event.start > now, let known = counts[event.uuid], known.total == event.total, known.active == event.active {
                continue
            }
            var token: String?
            repeat {
                let page: CalendlyRawPage
                do {
                    page = try await call(for: expert, user: user, &report) { [token, settings] client throws(CalendlyError) in
                        try await client.invitees(ofScheduledEvent: event.uri, pageToken: token, count: settings.pageSize)
                    }
                } catch CalendlyError.notFound {
                    break
                }
                for invitee in page.items {
                    report.invitees += 1
                    do {
                        observations.append(try InviteeObservation.event(invitee: invitee, scheduledEvent: event.json, at: .now()))
                    } catch {
                        logger.warning(
                            "reconciliation skipped an invitee it cannot read", metadata: ["expert": "\(expert.id)", "error": "\(error)"])
                    }
                }
                token = page.nextPageToken
            } while token != nil
        }
        guard !observations.isEmpty else { return 0 }
        return try await appendWhatIsNew(observations)
    }

    /// Appends the observations whose facts the fold does not hold yet, each checked against
    /// the read models and the observations before it.
    private func appendWhatIsNew(_ observations: [NewEvent]) async throws -> Int {
        let inputs = observations.map { try? ProjectionInput(observation: $0) }
        try await caughtUp()
        var state = ProjectionState(facts: try await readModels.facts(of: Set(inputs.compactMap { $0 }.flatMap(\.inviteeURIs))))
        var new: [NewEvent] = []
        for (observation, input) in zip(observations, inputs) {
            guard let input else { continue }
            var touched: [String: AppointmentFacts] = [:]
            for uri in input.inviteeURIs { touched[uri] = state.facts[uri] }
            guard input.wouldChange(touched) else { continue }
            var changes = ProjectionChanges()
            try? state.apply(input, changes: &changes)
            new.append(observation)
        }
        guard !new.isEmpty else { return 0 }
        let appended = try await append(new).filter { !$0.isDuplicate }.count
        metrics?.reconcileAppended(appended)
        return appended
    }

    /// A Calendly call for `expert`, paced by the user's rate limit and patient with 429s.
    private func call<T: Sendable>(
        for expert: ExpertProfile, user: String, _ report: inout ExpertReport,
        _ body: @Sendable (CalendlyClient) async throws(CalendlyError) -> T
    ) async throws -> T {
        report.requests += 1
        let settings = settings
        // Calendly counts a token's requests against its owner: an own account's user, or for
        // every expert the organization token speaks for, that token's one owner.
        let owner = expert.calendlyAccount == nil ? "organization token" : user
        let pacer = pacers.withLock { pacers in
            if let pacer = pacers[owner] { return pacer }
            let pacer = CalendlyRateLimitPacer(reserveFraction: settings.rateLimitReserve)
            pacers[owner] = pacer
            return pacer
        }
        return try await connections.perform(for: expert) { client throws(CalendlyError) in
            var client = client
            client.pacer = pacer
            client.attempts = settings.attempts
            client.maximumRateLimitWait = settings.maximumRateLimitWait
            return try await body(client)
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let problem = Problem(refusal: error) { return "\(problem.code.rawValue): \(problem.detail)" }
        return "\(error)"
    }
}

/// What reconciliation reads of a listed scheduled event.
private struct ListedEvent {
    var json: Data
    var uri: String
    var uuid: String
    var start: Timestamp
    var total: Int
    var active: Int

    init?(_ json: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any], let uri = object["uri"] as? String,
            let uuid = uri.split(separator: "/").last.map(String.init),
            let start = (object["start_time"] as? String).flatMap(Timestamp.init(rfc3339:))
        else { return nil }
        let counter = object["invitees_counter"] as? [String: Any]
        self.json = json
        self.uri = uri
        self.uuid = uuid
        self.start = start
        // Unknown counts never match, so the invitees are asked for.
        self.total = counter?["total"] as? Int ?? -1
        self.active = (object["status"] as? String) == "canceled" ? 0 : counter?["active"] as? Int ?? -1
    }
}
