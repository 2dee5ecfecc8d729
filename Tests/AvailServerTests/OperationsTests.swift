import AvailClient
import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@Suite struct OperationsTests {
    @Test func healthzSaysOK() async throws {
        try await withDaemon { daemon in
            let response = try await daemon.client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
        }
    }

    @Test func readyzIsReadyWhenTheDatabaseIsWritable() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withDaemon(.testing(databasePath: folder.path("availd.sqlite"))) { daemon in
            let response = try await daemon.client.execute(uri: "/readyz", method: .get)
            #expect(response.status == .ok)
        }
    }

    @Test func metricsCountDeliveriesByOutcome() async throws {
        try await withDaemon { daemon in
            _ = try await daemon.sender.send(builder.invitee(index: 1))
            _ = try await daemon.sender.send(builder.invitee(index: 1))
            _ = try await daemon.sender.send(builder.invitee(index: 2), signatureHeader: nil)
            let response = try await daemon.client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: response.body)
            #expect(response.status == .ok)
            #expect(text.contains(#"availd_webhook_deliveries_total{outcome="accepted"} 1"#))
            #expect(text.contains(#"availd_webhook_deliveries_total{outcome="duplicate"} 1"#))
            #expect(text.contains(#"availd_webhook_deliveries_total{outcome="missing_signature"} 1"#))
            #expect(text.contains(#"availd_webhook_deliveries_total{outcome="invalid_payload"} 0"#))
            #expect(text.contains("availd_log_position 1"))
            #expect(text.contains("availd_append_duration_seconds_count 2"))
        }
    }

    @Test func unknownRoutesAreProblems() async throws {
        try await withDaemon { daemon in
            let response = try await daemon.client.execute(uri: "/nowhere", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
            let problem = try JSONDecoder().decode(ProblemDocument.self, from: Data(response.body.readableBytesView))
            #expect(problem.code == "not_found")
        }
    }
}
