import AvailClient
import AvailCore
import AvailStore
import Hummingbird
import Logging
import NIOCore

/// Builds the daemon: opens and migrates the database (failing before anything listens),
/// starts the log writer and the projector, and wires the routes. The HTTP server is the
/// application's last service, so on SIGTERM it stops taking requests first (finishing those
/// in flight), then the writer drains and stops, then the projector folds what the log holds
/// and stops: the read models left behind are at the log's end.
public func buildApplication(
    configuration: Configuration,
    logger: Logger = Logger(label: "availd"),
    onServerRunning: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
) async throws -> some ApplicationProtocol {
    try configuration.validate()
    let sealer = try TokenSealer(secretKey: configuration.secretKey)
    let database = try await DaemonDatabase.open(path: configuration.databasePath, password: configuration.databasePassword, logger: logger)
    let stores = database.stores(sealer: sealer)
    let log = stores.log
    let deadLetters = stores.deadLetters
    let metrics = AvailMetrics()
    metrics.logPosition(try await log.lastPosition())
    let readModels = database.readModels
    let progress = ProjectionProgress()
    let calendlyAvailability = CalendlyAvailability(
        windowDays: configuration.calendlyWindowDays, ttl: configuration.calendlyCacheTTL, maxEntries: configuration.calendlyCacheEntries)
    let publicURL = PublicURL(configuration.publicURL ?? "http://\(configuration.host):\(configuration.port)")
    let feed = ExpertChangeFeed()
    let projector = Projector(
        log: log, readModels: readModels, lease: database.lease, progress: progress, metrics: metrics, logger: logger,
        drainTimeout: configuration.projectionDrainTimeout
    ) {
        touched, position in
        calendlyAvailability.invalidate(touched)
        feed.publish(touched, position: position)
    }
    let writer = LogWriter(log: log, maximumBatchSize: configuration.maxBatchSize, logger: logger) { position, _ in
        metrics.logPosition(position)
        projector.logAdvanced()
    }
    let commands = Commands(writer: writer, progress: progress, waitTimeout: configuration.projectionWaitTimeout)
    let connections = CalendlyConnections(
        apiBase: configuration.calendlyAPI, organizationToken: configuration.calendlyToken, app: configuration.calendlyOAuth,
        authURL: configuration.calendlyAuth, publicURL: publicURL,
        credentials: stores.calendlyCredentials, commands: commands,
        refreshMargin: configuration.tokenRefreshMargin, logger: logger, metrics: metrics,
        sharedLock: database.sharedLock)

    let router = Router(context: AvailRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
    // Outside the load shedding, so its 503 carries Log-Position like every other answer.
    router.add(middleware: LogPositionMiddleware(progress: progress, waitTimeout: configuration.projectionWaitTimeout))
    router.add(middleware: LoadSheddingMiddleware(limit: configuration.limits.maxInFlightRequests,
                                                  retryAfterSeconds: configuration.limits.retryAfterSeconds))
    router.add(middleware: ProblemMiddleware())
    WebhookController(
        signingKeys: configuration.signingKeys,
        tolerance: configuration.signatureTolerance,
        maxBodyBytes: configuration.maxBodyBytes,
        writer: writer,
        deadLetters: deadLetters,
        metrics: metrics
    ).addRoutes(to: router)
    let service = AvailabilityService(
        none: NoIntegrationStrategy(),
        native: NativeStrategy(readModels: readModels, commands: commands),
        calendly: CalendlyStrategy(connections: connections, availability: calendlyAvailability, readModels: readModels, commands: commands))
    AvailabilityController(readModels: readModels, service: service).addRoutes(to: router)
    OperationsController(checkWritable: database.checkWritable, writer: writer, projector: projector, metrics: metrics).addRoutes(to: router)
    // Public: the secret in the feed's URL is its credential (calendar apps send no bearer).
    let calendarFeeds = stores.calendarFeeds
    CalendarFeedPublisher(feeds: calendarFeeds, readModels: readModels).addRoutes(to: router)
    // Everything else needs a bearer token: the admin's, or an expert's for that expert only
    // (each handler checks the resource against the principal).
    let tokens = stores.expertTokens
    let authentication = AuthenticationMiddleware(adminToken: configuration.adminToken, tokens: tokens)
    let authenticated = router.group().add(middleware: authentication)
    let adminOnly = authenticated.group().add(middleware: AdminOnlyMiddleware())
    AdminController(log: log, deadLetters: deadLetters, readModels: readModels).addRoutes(to: adminOnly)
    TokenController(tokens: tokens, readModels: readModels, feed: feed).addRoutes(to: authenticated)
    let subscriptions = CalendlySubscriptions(connections: connections, readModels: readModels, commands: commands, logger: logger)
    let reconcileProgress = stores.reconcileProgress
    let reconciler = Reconciler(
        connections: connections, readModels: readModels, progress: reconcileProgress,
        settings: Reconciler.Settings(interval: configuration.reconcileInterval ?? .seconds(3600), lookback: configuration.reconcileLookback),
        metrics: metrics, logger: logger, append: writer.appendAll,
        caughtUp: { [log] in _ = await progress.wait(for: try await log.lastPosition(), timeout: configuration.projectionWaitTimeout) })
    let organizationSubscriptions = OrganizationSubscriptions(
        client: configuration.calendlyToken.map(connections.client), records: stores.subscriptions, logger: logger)
    let monitor = SubscriptionMonitor(
        subscriptions: subscriptions, organization: organizationSubscriptions, readModels: readModels,
        signingKey: configuration.signingKeys[0], interval: configuration.subscriptionCheckInterval, metrics: metrics,
        logger: logger
    ) { scope, since in
        // The gap the replaced subscription left: reconciled now, not at the next turn.
        reconciler.request(scope, since: since)
    }
    ExpertController(
        readModels: readModels, commands: commands, connections: connections, subscriptions: subscriptions,
        reconciliation: reconcileProgress)
        .addRoutes(to: authenticated)
    CalendarFeedController(feeds: calendarFeeds, readModels: readModels, publicURL: publicURL).addRoutes(to: authenticated)
    OAuthController(
        readModels: readModels, commands: commands, connections: connections, subscriptions: subscriptions,
        states: stores.oauthStates,
        authentication: authentication, stateLifetime: configuration.oauthStateLifetime, logger: logger
    ).addRoutes(to: router)
    AppointmentController(readModels: readModels).addRoutes(to: authenticated)
    BookingController(
        log: log, readModels: readModels, commands: commands, progress: progress, locks: KeyedLock(),
        sharedLock: database.sharedLock, service: service)
        .addRoutes(to: authenticated)
    // The expert's own page: signs in by cookie and answers with HTML, so it handles its own
    // access rather than going through the bearer-token group.
    SettingsPageController(
        readModels: readModels, service: service, connections: connections, authentication: authentication,
        calendarFeeds: calendarFeeds, reconciliation: reconcileProgress, subscriptionRecords: stores.subscriptions,
        feed: feed,
        maxStreamsPerExpert: configuration.limits.maxStreamsPerExpert, tokenRecheck: configuration.streamTokenRecheck
    ).addRoutes(to: router)
    // Last: it wraps only the router's not-found answer, and needs every route to tell a 405.
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))

    return Application(
        router: router,
        server: .guarded(limits: configuration.limits, logPosition: { progress.position }),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        // Shut down in reverse: the reconciler and the subscription monitor (which record
        // through the writer), then the writer (after the server), then the projector, and
        // last the database's own service (the checkpointer of SQLite's WAL, PostgreSQL's pool).
        services: [database.service, projector, writer, monitor] + (configuration.reconcileInterval == nil ? [] : [reconciler]),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            if configuration.publicURL == nil { publicURL.set("http://\(configuration.host):\(port)") }
            await onServerRunning(configuration.host, port)
        },
        logger: logger
    )
}
