import AvailClient
@testable import AvailServer
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

    /// Requests by method, route template (never the path) and status; refusals counted as
    /// errors too; this process's `process_*` metrics and the build's version.
    @Test func metricsCountRequestsByRouteTemplateAndStatus() async throws {
        try await withDaemon { daemon in
            #expect(try await daemon.call(.get, "/experts/ada").status == .notFound)
            #expect(try await daemon.call(.get, "/experts/grace").status == .notFound)
            #expect(try await daemon.call(.get, "/nowhere/at/all").status == .notFound)
            #expect(try await daemon.client.execute(uri: "/healthz", method: .get).status == .ok)
            let text = String(buffer: try await daemon.client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains(#"availd_http_requests_total{method="GET",route="/experts/{id}",status="404"} 2"#), "\(text)")
            #expect(text.contains(#"availd_http_request_errors_total{method="GET",route="/experts/{id}",status="404"} 2"#))
            #expect(text.contains(#"availd_http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
            #expect(text.contains(#"availd_http_requests_total{method="GET",route="/healthz",status="200"} 1"#))
            #expect(!text.contains(#"availd_http_request_errors_total{method="GET",route="/healthz""#))
            #expect(text.contains(#"availd_http_request_duration_seconds_count{method="GET",route="/experts/{id}",status="404"} 2"#))
            #expect(!text.contains("ada") && !text.contains("grace") && !text.contains("/nowhere"))
            #expect(text.contains(#"availd_build_info{version="\#(AvailVersion.current)",swift=""#))

            func value(_ name: String) -> Double? {
                text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
            }
            #expect(text.contains("# TYPE process_cpu_seconds_total counter"))
            #expect((value("process_cpu_seconds_total") ?? 0) > 0)
            #expect((value("process_resident_memory_bytes") ?? 0) > 1_000_000)
            #expect((value("process_virtual_memory_bytes") ?? 0) >= (value("process_resident_memory_bytes") ?? .infinity))
            #expect((value("process_open_fds") ?? 0) >= 3)
            #expect((value("process_max_fds") ?? 0) >= (value("process_open_fds") ?? .infinity))
            let started = try #require(value("process_start_time_seconds"))
            #expect(abs(Date().timeIntervalSince1970 - started) < 24 * 3600, "\(started)")
        }
    }

    /// A command whose name holds spaces and parentheses does not shift the fields.
    @Test func processStatFieldsAreCountedAfterTheCommandsLastParenthesis() throws {
        let stat = "4242 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 1000 123456789 2048 18446744073709551615"
        let sample = try #require(ProcessMetrics.parse(stat: stat, ticksPerSecond: 100, pageSize: 4096, bootTime: 1_700_000_000))
        #expect(sample.cpuSeconds == 3)
        #expect(sample.startTimeSeconds == 1_700_000_010)
        #expect(sample.virtualBytes == 123_456_789)
        #expect(sample.residentBytes == 2048 * 4096)
        #expect(ProcessMetrics.parse(stat: "4242 (short) S 1 2", ticksPerSecond: 100, pageSize: 4096, bootTime: 0) == nil)
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
