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
public final class Projector: Service, Sendable {
    private let log: EventLog
    private let readModels: ReadModels
    private let progress: ProjectionProgress
    private let metrics: AvailMetrics
    private let logger: Logger
    private let batchSize: Int
    private let pollInterval: Duration
    private let wake = WakeSignal()
    private let onApplied: @Sendable (_ touchedExperts: Set<String>, _ position: Int64) -> Void
    /// Started with the daemon's services, before the HTTP server; nil means running.
    private let health = Mutex<String?>(nil)

    public init(
        log: EventLog, readModels: ReadModels, progress: ProjectionProgress, metrics: AvailMetrics, logger: Logger,
        batchSize: Int = 256, pollInterval: Duration = .seconds(1),
        onApplied: @escaping @Sendable (_ touchedExperts: Set<String>, _ position: Int64) -> Void = { _, _ in }
    ) {
        self.onApplied = onApplied
        self.log = log
        self.readModels = readModels
        self.progress = progress
        self.metrics = metrics
        self.logger = logger
        self.batchSize = batchSize
        self.pollInterval = pollInterval
    }

    /// Something was appended: look now rather than at the next tick.
    public func logAdvanced() {
        wake.signal()
    }

    /// nil while the projector runs and its last batch committed; otherwise why not.
    public var problem: String? { health.withLock { $0 } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        health.withLock { $0 = "stopped" }
    }

    private func loop() async {
        var position: (checkpoint: Int64, experts: ExpertCache)?
        while !Task.isCancelled {
            do {
                if position == nil {
                    position = (try await readModels.checkpoint(), ExpertCache(try await readModels.experts()))
                    progress.publish(position!.checkpoint)
                    metrics.projectionPosition(position!.checkpoint)
                }
                let (checkpoint, experts) = position!
                let events = try await log.events(after: checkpoint, limit: batchSize)
                health.withLock { $0 = nil }
                if events.isEmpty {
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
                    logger.info("projection.checkpoint_moved", metadata: ["log.position": "\(found)"])
                    position = nil
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
}
