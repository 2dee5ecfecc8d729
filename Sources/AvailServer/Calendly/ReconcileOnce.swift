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
/// the usual one: the last complete pass, less the lookback). An expert that is not connected
/// is an error in its summary.
public func reconcileOnce(
    configuration: Configuration, expertID: String?, since: Timestamp?, logger: Logger
) async throws -> [ReconcileSummary] {
    try configuration.validate()
    let database = try LogDatabase.open(path: configuration.databasePath)
    let log = EventLog(database: database)
    let readModels = ReadModels(database: database)
    let progress = ProjectionProgress()
    let metrics = AvailMetrics()
    let projector = Projector(
        log: log, readModels: readModels, progress: progress, metrics: metrics, logger: logger,
        drainTimeout: configuration.projectionDrainTimeout
    ) { _, _ in }
    let writer = LogWriter(log: log, maximumBatchSize: configuration.maxBatchSize, logger: logger) { _, _ in projector.logAdvanced() }
    let commands = Commands(writer: writer, progress: progress, waitTimeout: configuration.projectionWaitTimeout)
    let connections = CalendlyConnections(
        apiBase: configuration.calendlyAPI, organizationToken: configuration.calendlyToken, app: configuration.calendlyOAuth,
        authURL: configuration.calendlyAuth,
        publicURL: PublicURL(configuration.publicURL ?? "http://\(configuration.host):\(configuration.port)"),
        credentials: CalendlyCredentialStore(database: database, sealer: try TokenSealer(secretKey: configuration.secretKey)),
        commands: commands, refreshMargin: configuration.tokenRefreshMargin, logger: logger, metrics: metrics)
    let reconciler = Reconciler(
        connections: connections, readModels: readModels, progress: ReconcileProgressStore(database: database),
        settings: Reconciler.Settings(lookback: configuration.reconcileLookback), metrics: metrics, logger: logger,
        append: writer.appendAll,
        caughtUp: { _ = await progress.wait(for: try await log.lastPosition(), timeout: configuration.projectionWaitTimeout) })

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
                    throw Problem(.notFound, code: "not_found", detail: "there is no expert \(expertID)")
                }
                chosen = [expert]
            } else {
                chosen = experts.values.filter(reconciler.isReconcilable).sorted { $0.id < $1.id }
            }
            var summaries: [ReconcileSummary] = []
            for expert in chosen {
                let report = await reconciler.reconcile(expert, since: since, explicit: since != nil)
                summaries.append(ReconcileSummary(
                    expertID: report.expertID, events: report.events, invitees: report.invitees, appended: report.appended,
                    requests: report.requests, complete: report.complete, error: report.error))
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
