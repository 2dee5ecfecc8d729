import AvailCore
import CoreMetrics
import Prometheus
import Synchronization

/// availd's metrics, created once and passed in; served from their own registry, so there is
/// no global `MetricsSystem` to bootstrap.
public struct AvailMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let deliveries: [String: CoreMetrics.Counter]
    private let unknownOutcome: CoreMetrics.Counter
    private let logPosition: CoreMetrics.Gauge
    private let appendDuration: CoreMetrics.Timer
    private let projectionPosition: CoreMetrics.Gauge
    private let parkedEvents: CoreMetrics.Counter
    private let projectionBatchDuration: CoreMetrics.Timer
    private let factory: PrometheusMetricsFactory
    private let rateLimited: CoreMetrics.Counter
    private let httpSeries = HTTPSeries()

    /// Every outcome a delivery can have, so each series exists from the start at 0.
    static let deliveryOutcomes = [
        "accepted", "duplicate", "missing_signature", "malformed_signature", "invalid_signature",
        "stale_signature", "invalid_payload", "payload_too_large", "unavailable",
    ]

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["availd_append_duration_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .seconds(1), .seconds(5),
        ]
        factory.durationHistogramBuckets["availd_projection_batch_duration_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .seconds(1), .seconds(5),
        ]
        factory.durationHistogramBuckets["availd_http_request_duration_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        ]
        func counter(_ outcome: String) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: "availd_webhook_deliveries_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        self.registry = registry
        self.deliveries = Dictionary(uniqueKeysWithValues: Self.deliveryOutcomes.map { ($0, counter($0)) })
        self.unknownOutcome = counter("other")
        self.logPosition = CoreMetrics.Gauge(label: "availd_log_position", factory: factory)
        self.appendDuration = CoreMetrics.Timer(label: "availd_append_duration_seconds", factory: factory)
        self.projectionPosition = CoreMetrics.Gauge(label: "availd_projection_position", factory: factory)
        self.parkedEvents = CoreMetrics.Counter(label: "availd_projection_parked_total", factory: factory)
        self.projectionBatchDuration = CoreMetrics.Timer(label: "availd_projection_batch_duration_seconds", factory: factory)
        self.rateLimited = CoreMetrics.Counter(label: "availd_calendly_rate_limited_total", factory: factory)
        self.factory = factory
        CoreMetrics.Gauge(
            label: "availd_build_info", dimensions: [("version", AvailVersion.current), ("swift", AvailVersion.swift)], factory: factory
        ).record(1)
    }

    /// What the last subscription check found, by state (`active`, `disabled`, `missing`).
    func calendlySubscriptions(_ counts: [String: Int]) {
        for (state, count) in counts {
            CoreMetrics.Gauge(label: "availd_calendly_subscriptions", dimensions: [("state", state)], factory: factory).record(count)
        }
    }

    /// Observations reconciliation appended: what webhooks had missed.
    func reconcileAppended(_ count: Int) {
        CoreMetrics.Counter(label: "availd_reconcile_appended_total", factory: factory).increment(by: count)
    }

    /// Every reconcilable expert's last complete pass started at `since` or later: the log is
    /// known to agree with Calendly up to then (`availd_reconcile_last_complete_pass_seconds`,
    /// Unix seconds).
    func reconcileCovered(since: Timestamp) {
        CoreMetrics.Gauge(label: "availd_reconcile_last_complete_pass_seconds", factory: factory)
            .record(Double(since.microseconds) / 1_000_000)
    }

    /// One answer from Calendly (`status` nil: none came), by endpoint shape; a 429 also counts
    /// as rate limited.
    func calendlyRequest(endpoint: String, status: Int?) {
        CoreMetrics.Counter(
            label: "availd_calendly_requests_total", dimensions: [("endpoint", endpoint), ("status", status.map(String.init) ?? "error")],
            factory: factory
        ).increment()
        if status == 429 { rateLimited.increment() }
    }

    /// Counts one delivery under `outcome` (`accepted`, `duplicate`, or a refusal's code).
    func delivery(_ outcome: String) {
        (deliveries[outcome] ?? unknownOutcome).increment()
    }

    /// The log's last position, after a commit or at start-up.
    func logPosition(_ position: Int64) {
        logPosition.record(position)
    }

    /// The last position the read models include.
    func projectionPosition(_ position: Int64) {
        projectionPosition.record(position)
    }

    /// The read models' generation readers use (a rebuild makes a new one).
    func readModelsGeneration(_ number: Int64) {
        CoreMetrics.Gauge(label: "availd_read_models_generation", factory: factory).record(number)
    }

    /// 1 while this daemon projects (it holds the projection lease, or needs none), 0 while it
    /// follows another daemon's projector.
    func projectionLeader(_ leading: Bool) {
        CoreMetrics.Gauge(label: "availd_projection_leader", factory: factory).record(leading ? 1 : 0)
    }

    /// One projector batch: how long it took and how many of its events were parked.
    func projectionBatch(took duration: Duration, parked: Int) {
        projectionBatchDuration.recordNanoseconds(duration.nanoseconds)
        if parked > 0 { parkedEvents.increment(by: parked) }
    }

    /// How long one delivery took from receipt to durable.
    func appendTook(_ duration: Duration) {
        appendDuration.recordNanoseconds(duration.nanoseconds)
    }

    /// One answered request (see `HTTPMetricsMiddleware`).
    func httpRequest(method: String, route: String, status: Int, took duration: Duration) {
        let series = httpSeries.series(HTTPSeries.Key(method: method, route: route, status: status), factory: factory)
        series.requests.increment()
        series.errors?.increment()
        series.duration.recordNanoseconds(duration.nanoseconds)
    }

    /// The Prometheus text exposition, this process's `process_*` metrics included.
    func exposition() -> [UInt8] {
        registry.emitToBuffer() + Array(ProcessMetrics.exposition(ProcessMetrics.sample()).utf8)
    }
}

/// The HTTP series made so far, by method, route and status: made once each rather than looked
/// up in the registry on every request.
private final class HTTPSeries: Sendable {
    struct Key: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    struct Series: Sendable {
        var requests: CoreMetrics.Counter
        var errors: CoreMetrics.Counter?
        var duration: CoreMetrics.Timer
    }

    private let made = Mutex<[Key: Series]>([:])

    func series(_ key: Key, factory: PrometheusMetricsFactory) -> Series {
        made.withLock { made in
            if let series = made[key] { return series }
            let dimensions = [("method", key.method), ("route", key.route), ("status", "\(key.status)")]
            let series = Series(
                requests: CoreMetrics.Counter(label: "availd_http_requests_total", dimensions: dimensions, factory: factory),
                errors: key.status >= 400
                    ? CoreMetrics.Counter(label: "availd_http_request_errors_total", dimensions: dimensions, factory: factory) : nil,
                duration: CoreMetrics.Timer(label: "availd_http_request_duration_seconds", dimensions: dimensions, factory: factory))
            made[key] = series
            return series
        }
    }
}
