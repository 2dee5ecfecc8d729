import AvailCore
import AvailStore

extension AvailPostgresDatabase {
    /// This database's stores; `sealer` seals the Calendly tokens and OAuth verifiers.
    public func stores(sealer: TokenSealer) -> Stores {
        Stores(
            log: PostgresEventLog(database: self), deadLetters: PostgresDeadLetters(database: self),
            expertTokens: ExpertTokens(database: self), calendarFeeds: CalendarFeeds(database: self),
            calendlyCredentials: PostgresCalendlyCredentials(database: self, sealer: sealer),
            oauthStates: PostgresOAuthStates(database: self, sealer: sealer), reconcileProgress: PostgresReconcileProgress(database: self),
            subscriptions: PostgresSubscriptionRecords(database: self))
    }
}
