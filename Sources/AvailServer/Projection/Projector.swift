import AvailCore
import AvailStore
import Logging
import ServiceLifecycle
import Synchronization

/// Folds the log into the read models, for as long as the daemon runs.
///
/// It catches up from its checkpoint on start, then wakes on every commit of the log writer
/// (and on a slow timer, in case a commit came from another process). Each batch is read after
/// the checkpoint, applied, and written with the new checkpoint in one transaction.
/// Graceful shutdown lets it catch up to the log's end first (see `run()`).
///
/// Where several daemons share the database (PostgreSQL), only the one holding the `lease`
/// projects; the others follow: they read the checkpoint every `followInterval`, publish it
/// (so `min_position` and `Log-Position` mean the same on every daemon) and, when it moved,
/// drop every expert's cached availability, not knowing whose appointments changed.
public final class Projector: Service, Sendable {
    private let log: any EventStore
    private let readModels: any ProjectionTarget
    private let lease: (any ProjectionLease)?
    private let followInterval: Duration
    private let progress: ProjectionProgress
    private let metrics: AvailMetrics
    private let logger: Logger
    private let batchSize: Int
    private let pollInterval: Duration
    private let drainTimeout: Duration
    /// Set on graceful shutdown: the loop ends once it finds nothing more to fold.
    private let draining = Atomic<Bool>(false)
    private let wake = WakeSignal()
    private let onApplied: @Sendable (_ touchedExperts: Set<String>, _ position: Int64) -> Void
    /// Started with the daemon's services, before the HTTP server; nil means running.
    private let health = Mutex<String?>(nil)

    public init(
        log: any EventStore, readModels: any ProjectionTarget, lease: (any ProjectionLease)? = nil, progress: ProjectionProgress,
        metrics: AvailMetrics, logger: Logger, batchSize: Int = 256, pollInterval: Duration = .seconds(1),
        followInterval: Duration = .milliseconds(50), drainTimeout: Duration = .seconds(10),
        onApplied: @escaping @Sendable (_ touchedExperts: Set<String>, _ position: Int64) -> Void = { _, _ in }
    ) {
        self.onApplied = onApplied
        self.log = log
        self.readModels = readModels
        self.lease = lease
        self.followInterval = followInterval
        self.progress = progress
        self.metrics = metrics
        self.logger = logger
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.drainTimeout = drainTimeout
    }

    /// Something was appended: look now rather than at the next tick.
    public func logAdvanced() {
        wake.signal()
    }

    /// nil while the projector runs and its last batch committed; otherwise why not.
    public var problem: String? { health.withLock { $0 } }

    /// On graceful shutdown it does not stop at once: it folds what the log holds (the writer,
    /// shut down before it, has drained by then), so the read models left behind are at the
    /// log's end. A projector that cannot get there gives up after `drainTimeout`, with a warning.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withGracefulShutdownHandler {
                    await self.loop()
                } onGracefulShutdown: {
                    self.draining.store(true, ordering: .relaxed)
                    self.wake.signal()
                }
            }
            group.addTask {
                guard (try? await gracefulShutdown()) != nil, (try? await Task.sleep(for: self.drainTimeout)) != nil else { return }
                self.logger.warning("projection.drain_timed_out", metadata: [
                    "log.position": "\(self.progress.position)", "timeout": "\(self.drainTimeout)",
                ])
            }
            // The loop caught up, or the time-out passed: either way, stop the other.
            await group.next()
            group.cancelAll()
        }
        // Another daemon takes over now, not when this process is gone.
        await lease?.release()
        health.withLock { $0 = "stopped" }
    }

    private func loop() async {
        // Held to the read models it writes: rebuilt ones are brought up to date before readers move to them.
        var readModels = self.readModels.heldForProjector()
        metrics.readModelsGeneration(readModels.generationNumber)
        var position: (checkpoint: Int64, experts: ExpertCache)?
        var generationChecked = ContinuousClock.now
        var leading = lease == nil
        var leaseChecked: ContinuousClock.Instant?
        var followed: Int64?
        metrics.projectionLeader(leading)
        while !Task.isCancelled {
            do {
                if let lease, leaseChecked.map({ ContinuousClock.now - $0 >= pollInterval }) ?? true {
                    leaseChecked = .now
                    let holds = await lease.holds()
                    if holds != leading {
                        leading = holds
                        position = nil
                        followed = nil
                        metrics.projectionLeader(holds)
                        logger.info(holds ? "projection.lease_acquired" : "projection.lease_lost")
                    }
                }
                if !leading {
                    if draining.load(ordering: .relaxed) { return }
                    try await follow(&followed)
                    await wake.wait(timeout: followInterval)
                    continue
                }
                if ContinuousClock.now - generationChecked >= pollInterval {
                    generationChecked = .now
                    readModels.removeUnusedGenerations()
                    if let rebuilt = try await readModels.adoptRebuilt(catchingUpWith: log, through: progress.position) {
                        readModels = rebuilt
                        try await adopted(rebuilt)
                        position = nil
                        continue
                    }
                }
                if position == nil {
                    position = (try await readModels.checkpoint(), ExpertCache(try await readModels.experts()))
                    progress.publish(position!.checkpoint)
                    metrics.projectionPosition(position!.checkpoint)
                }
                let (checkpoint, experts) = position!
                let events = try await log.events(after: checkpoint, limit: batchSize)
                health.withLock { $0 = nil }
                if events.isEmpty {
                    // Shutting down and at the log's end: done.
                    if draining.load(ordering: .relaxed) { return }
                    await wake.wait(timeout: pollInterval)
                    continue
                }
                let started = ContinuousClock.now
                switch try await readModels.apply(events.map(PreparedEvent.init), after: checkpoint, experts: experts) {
                case .applied(let reached, let experts, let parked, let touched):
                    position = (reached, experts)
                    // Before publishing: whoever sees `reached` must not find a stale cache.
                    if !touched.isEmpty { onApplied(touched, reached) }
                    progress.publish(reached)
                    metrics.projectionPosition(reached)
                    metrics.projectionBatch(took: ContinuousClock.now - started, parked: parked)
                    if parked > 0 {
                        logger.warning("projection.parked", metadata: ["projection.parked": "\(parked)", "log.position": "\(reached)"])
                    }
                case .stale(let found):
                    // Something else wrote the read models (a rebuild in place, an offline
                    // replay): nothing cached from them holds any more.
                    logger.info("projection.checkpoint_moved", metadata: ["log.position": "\(found)"])
                    let experts = try await readModels.experts()
                    onApplied(Set(experts.keys), found)
                    position = (found, ExpertCache(experts))
                    progress.publish(found)
                    metrics.projectionPosition(found)
                }
            } catch {
                let failure = String(describing: error)
                health.withLock { $0 = "last batch failed: \(failure)" }
                logger.error("projection.failed", metadata: ["error": "\(failure)"])
                position = nil
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// What a daemon that does not project does: publishes the checkpoint the projecting one
    /// reached, and drops every cache once it moved.
    private func follow(_ followed: inout Int64?) async throws {
        let checkpoint = try await readModels.checkpoint()
        health.withLock { $0 = nil }
        guard checkpoint != followed else { return }
        if followed != nil { onApplied(Set(try await readModels.experts().keys), checkpoint) }
        followed = checkpoint
        progress.publish(checkpoint)
        metrics.projectionPosition(checkpoint)
    }

    /// A rebuild wrote `rebuilt` apart and readers moved to it, brought up to where this
    /// projector got (so that no reader goes back in time): whatever was cached from the old
    /// read models is dropped (a rebuild may say otherwise: that is what it is for).
    private func adopted(_ rebuilt: any ProjectionTarget) async throws {
        let reached = try await rebuilt.checkpoint()
        onApplied(Set(try await rebuilt.experts().keys), reached)
        progress.publish(reached)
        metrics.projectionPosition(reached)
        metrics.readModelsGeneration(rebuilt.generationNumber)
        logger.info("projection.generation_adopted", metadata: [
            "read_models.generation": "\(rebuilt.generationNumber)", "log.position": "\(reached)",
        ])
    }
}
