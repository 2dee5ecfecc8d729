import AvailStore
import HTTPTypes
import Hummingbird
import NIOCore

/// `/healthz`, `/readyz`, `/metrics`, `/openapi.yaml`: unauthenticated, no personal data.
struct OperationsController: Sendable {
    let checkWritable: @Sendable () async throws -> Void
    let writer: LogWriter
    let projector: Projector
    let metrics: AvailMetrics

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in try Response.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in try await self.readiness() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition()))
            )
        }
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml))
            )
        }
    }

    /// Ready when the log writer takes appends, its last batch committed, the projector runs and
    /// its last batch committed, and the database takes writes (SQLite grants its write lock: not
    /// read-only, not held by another process; PostgreSQL is neither a standby nor read-only).
    func readiness() async throws -> Response {
        var checks: [String: String] = ["log_writer": "ok", "database": "ok", "projector": projector.problem ?? "ok"]
        if !writer.isAccepting {
            checks["log_writer"] = "stopped"
        } else if let failure = writer.lastFailure {
            checks["log_writer"] = "last commit failed: \(failure)"
        }
        do {
            try await checkWritable()
        } catch {
            checks["database"] = "not writable: \(error)"
        }
        let ready = checks.values.allSatisfy { $0 == "ok" }
        return try .json(Readiness(status: ready ? "ready" : "not_ready", checks: checks),
                         status: ready ? .ok : .serviceUnavailable)
    }

    struct Readiness: Encodable {
        var status: String
        var checks: [String: String]
    }
}
