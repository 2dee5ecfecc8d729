import AvailCore
import AvailStore
import HTTPTypes
import Logging
import ServiceLifecycle

/// What one expert's reconciliation found and did (`availd calendly reconcile`).
public struct ReconcileSummary: Sendable, Equatable {
    public var expertID: String
    /// Scheduled events listed, invitees read, observations appended, Calendly calls made.
    public var events: Int
    public var invitees: Int
    public var appended: Int
    public var requests: Int
    public var complete: Bool
    public var error: String?
}

/// One reconciliation pass in this process (`availd calendly reconcile`), over the database a
/// daemon may be serving at the same time: the log's single writer per process and the
/// projector run here for the pass's length, exactly as in the daemon (appends are
/// transactions, the projector's checkpoint settles who folded what), and stop when it ends.
///
/// `expertID` nil: every expert connected to Calendly. `since`: the window's start (instead of
/// the usual one: the last complete pass, less `lookback`). An expert that is not connected, or
/// whose own account's tokens `access` cannot open, is an error in its summary. `reconciled`
/// is told how many experts are done of how many, after each.
public func reconcileOnce(
    database: DaemonDatabase, access: CalendlyAccess, expertID: String?, since: Timestamp?, lookback: Duration = .seconds(86_400),
    logger: Logger, reconciled: (_ done: Int, _ total: Int) -> Void = { _, _ in }
) async throws -> [ReconcileSummary] {
    // Without the secret key no stored token opens: those experts' summaries say so.
    let sealer = try TokenSealer(secretKey: access.secretKey ?? Secret.generate())
    let stores = database.stores(sealer: sealer)
    let log = stores.log
    let readModels = database.readModels
    let progress = ProjectionProgress()
    let metrics = AvailMetrics()
    let waitTimeout: Duration = .seconds(30)
    // Where daemons share the database, whichever holds the lease folds what this pass appends,
    // and this process follows its checkpoint.
    let projector = Projector(
        log: log, readModels: readModels, lease: database.lease, progress: progress, metrics: metrics, logger: logger) { _, _ in }
    let writer = LogWriter(log: log, logger: logger) { _, _ in projector.logAdvanced() }
    let commands = Commands(writer: writer, progress: progress, waitTimeout: waitTimeout)
    let connections = CalendlyConnections(
        apiBase: access.api, organizationToken: access.organizationToken, app: access.oauthApp, authURL: access.authURL,
        publicURL: PublicURL(""), credentials: stores.calendlyCredentials, commands: commands,
        refreshMargin: access.tokenRefreshMargin, logger: logger, metrics: metrics, sharedLock: database.sharedLock)
    let reconciler = Reconciler(
        connections: connections, readModels: readModels, progress: stores.reconcileProgress,
        settings: Reconciler.Settings(lookback: lookback), metrics: metrics, logger: logger, append: writer.appendAll,
        caughtUp: { _ = await progress.wait(for: try await log.lastPosition(), timeout: waitTimeout) })

    let services = ServiceGroup(
        configuration: .init(services: [projector, writer], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await services.run() }
        let outcome: Result<[ReconcileSummary], any Error>
        do {
            // The read models as the log stands, before asking what they lack.
            try await reconciler.caughtUp()
            let experts = try await readModels.experts()
            var chosen: [ExpertProfile]
            if let expertID {
                guard let expert = experts[expertID] else {
                    throw Problem(.notFound, code: .notFound, detail: "there is no expert \(expertID)")
                }
                chosen = [expert]
            } else {
                chosen = experts.values.filter(reconciler.isReconcilable).sorted { $0.id < $1.id }
            }
            var summaries: [ReconcileSummary] = []
            for expert in chosen {
                var report = await reconciler.reconcile(expert, since: since, explicit: since != nil)
                if access.secretKey == nil, expert.calendlyAccount != nil, !report.complete {
                    report.error = "no secret key (--secret-key, or the file beside the database) to open the expert's stored Calendly tokens"
                }
                summaries.append(ReconcileSummary(
                    expertID: report.expertID, events: report.events, invitees: report.invitees, appended: report.appended,
                    requests: report.requests, complete: report.complete, error: report.error))
                reconciled(summaries.count, chosen.count)
            }
            // What was appended is in the read models when the command ends.
            try await reconciler.caughtUp()
            outcome = .success(summaries)
        } catch {
            outcome = .failure(error)
        }
        await services.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return try outcome.get()
    }
}
