import AvailClient
import AvailCore
import AvailStore
import Logging

/// `availd calendly subscriptions`: every webhook subscription availd knows, each connected
/// account's (from the read models) and the organization token's (`SubscriptionRecords`), in
/// the state Calendly reports now, asked with the token that can see it: the account's own,
/// or the organization token. What cannot be asked is `unknown`, with why and the last state
/// availd knew.
public struct SubscriptionReport: Sendable {
    public struct Row: Sendable, Equatable {
        /// The expert whose own account's it is; nil for the organization token's.
        public var expert: String?
        /// `user` or `organization`.
        public var scope: String
        /// nil: a connected account without a subscription.
        public var uri: String?
        /// As Calendly reports it now (`active`, `disabled`), `missing` (Calendly lists it no
        /// more), `none` (the account has none), or `unknown`.
        public var state: String
        /// Why the state is `unknown`.
        public var unknownReason: String?
        /// The last check's state, else what availd recorded at creation.
        public var lastKnownState: String?
        /// As Calendly reports them (or as recorded, for an organization-token one); nil: not known.
        public var events: [String]?
        public var callbackURL: String?
        public var lastCheck: SubscriptionCheck?
    }

    let database: DaemonDatabase
    let access: CalendlyAccess
    let logger: Logger

    public init(database: DaemonDatabase, access: CalendlyAccess, logger: Logger) {
        self.database = database
        self.access = access
        self.logger = logger
    }

    /// The experts' rows by expert id, then the organization token's, oldest first.
    public func rows() async throws -> [Row] {
        let records = try database.storesWithoutSecrets.subscriptions
        let checks = try await records.checks()
        let experts = try await database.readModels.experts().values.filter { $0.calendlyAccount != nil }.sorted { $0.id < $1.id }
        var rows = try await access.withConnections(database: database, logger: logger) { connections in
            var rows: [Row] = []
            for expert in experts { rows.append(await row(for: expert, connections: connections, checks: checks)) }
            return rows
        }
        let organization = OrganizationSubscriptions(api: access.api, token: access.organizationToken, records: records, logger: logger)
        for subscription in try await records.organizationSubscriptions() {
            rows.append(await row(for: subscription, organization: organization, checks: checks))
        }
        return rows
    }

    private func row(
        for expert: ExpertProfile, connections: Result<CalendlyConnections, CalendlyAccess.Unavailable>, checks: [String: SubscriptionCheck]
    ) async -> Row {
        guard let account = expert.calendlyAccount, let known = account.subscription else {
            return Row(expert: expert.id, scope: "user", state: "none")
        }
        var row = Row(
            expert: expert.id, scope: "user", uri: known.uri, state: "unknown", lastKnownState: checks[known.uri]?.state ?? known.state,
            callbackURL: known.callbackURL, lastCheck: checks[known.uri])
        let client: CalendlyConnections
        switch connections {
        case .failure(let unavailable):
            row.unknownReason = unavailable.reason
            return row
        case .success(let connections): client = connections
        }
        if account.status == .needsReconnect {
            row.unknownReason = "the expert must connect their Calendly account again"
            return row
        }
        guard let organization = account.organizationURI else {
            row.unknownReason = "Calendly named no organization for the account"
            return row
        }
        do {
            let listed = try await client.perform(for: expert) { client throws(CalendlyError) in
                try await client.webhookSubscriptions(organization: organization, user: account.userURI)
            }
            row.found(listed.first { $0.uri == known.uri })
        } catch {
            row.unknownReason = Self.reason(error)
        }
        return row
    }

    private func row(
        for subscription: OrganizationSubscription, organization: OrganizationSubscriptions, checks: [String: SubscriptionCheck]
    ) async -> Row {
        var row = Row(
            expert: nil, scope: subscription.scope.rawValue, uri: subscription.uri, state: "unknown",
            lastKnownState: checks[subscription.uri]?.state, events: subscription.events, callbackURL: subscription.callbackURL,
            lastCheck: checks[subscription.uri])
        guard access.organizationToken != nil else {
            row.unknownReason = "no organization token (--calendly-token) to ask Calendly with"
            return row
        }
        do {
            row.found(try await organization.listed(like: subscription).first { $0.uri == subscription.uri })
        } catch {
            row.unknownReason = Self.reason(error)
        }
        return row
    }

    static func reason(_ error: any Error) -> String {
        Problem(refusal: error)?.detail ?? "\(error)"
    }
}

extension SubscriptionReport.Row {
    init(
        expert: String?, scope: String, uri: String? = nil, state: String, lastKnownState: String? = nil, events: [String]? = nil,
        callbackURL: String? = nil, lastCheck: SubscriptionCheck? = nil
    ) {
        self.init(
            expert: expert, scope: scope, uri: uri, state: state, unknownReason: nil, lastKnownState: lastKnownState, events: events,
            callbackURL: callbackURL, lastCheck: lastCheck)
    }

    /// What Calendly listed for the subscription (nil: not listed).
    mutating func found(_ listed: CalendlyWebhookSubscription?) {
        guard let listed else {
            state = "missing"
            return
        }
        state = listed.state
        events = listed.events
        callbackURL = listed.callbackURL
    }
}
