import AvailClient
import AvailCore
import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
/// Every row of the README's ingest table ("Ingest"), through the real server over loopback.
@Suite struct WebhookIngestTests {
    @Test func aNewDeliveryIsAcceptedAtItsPosition() async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.sender.send(builder.invitee(index: 1))
            #expect(answer.status == 202)
            #expect(answer.json?["position"] as? Int == 1)
            #expect(answer.json?["duplicate"] as? Bool == false)
        }
    }

    @Test func aRedeliveryAnswersTheFirstPosition() async throws {
        try await withDaemon { daemon in
            _ = try await daemon.sender.send(builder.invitee(index: 1))
            _ = try await daemon.sender.send(builder.invitee(index: 2))
            let again = try await daemon.sender.send(builder.invitee(index: 1))
            #expect(again.status == 200)
            #expect(again.json?["position"] as? Int == 1)
            #expect(again.json?["duplicate"] as? Bool == true)
            #expect(try await daemon.allEvents().count == 2)
        }
    }

    /// A replacement subscription delivers to `/webhooks/calendly/{suffix}` while the old one
    /// still delivers to the old URL: one endpoint, one log, one dedupe.
    @Test func aSuffixedURLIsTheSameEndpoint() async throws {
        try await withDaemon { daemon in
            let key = daemon.configuration.signingKeys[0]
            let suffixed = WebhookSender(baseURL: daemon.baseURL, signingKey: key, path: "/webhooks/calendly/sub-2")
            let first = try await suffixed.send(builder.invitee(index: 1))
            #expect(first.status == 202)
            let again = try await daemon.sender.send(builder.invitee(index: 1))
            #expect(again.status == 200 && again.json?["duplicate"] as? Bool == true)
            #expect(try await suffixed.send(builder.invitee(index: 1), signatureHeader: nil).status == 401)
            for bad in ["/webhooks/calendly/a.b", "/webhooks/calendly/\(String(repeating: "x", count: 65))"] {
                let answer = try await WebhookSender(baseURL: daemon.baseURL, signingKey: key, path: bad).send(builder.invitee(index: 2))
                #expect(answer.status == 404 && answer.problem?.code == "not_found", "\(bad)")
            }
            #expect(try await daemon.allEvents().count == 1)
        }
    }

    @Test func anUnknownEventNameIsKept() async throws {
        try await withDaemon { daemon in
            let body = Data(#"{"event":"workflow.triggered","created_at":"2026-11-20T10:00:00.000000Z","created_by":"u","payload":{"uri":"https://api.calendly.com/workflows/W1"}}"#.utf8)
            let answer = try await daemon.sender.send(body)
            #expect(answer.status == 202)
            #expect(try await daemon.allEvents().map(\.type) == ["workflow.triggered"])
        }
    }

    @Test(arguments: [
        (nil, "missing_signature"),
        ("", "malformed_signature"),
        ("t=abc,v1=00", "malformed_signature"),
        ("v1=" + String(repeating: "ab", count: 32), "malformed_signature"),
    ] as [(String?, String)])
    func unsignedOrMalformedIsRefused(header: String?, code: String) async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.sender.send(builder.invitee(index: 1), signatureHeader: header)
            #expect(answer.status == 401)
            #expect(answer.problem?.code == code)
            #expect(try await daemon.allEvents().isEmpty)
        }
    }

    @Test func aSignatureWithAnotherKeyIsInvalid() async throws {
        try await withDaemon { daemon in
            let forger = WebhookSender(baseURL: daemon.baseURL, signingKey: "not-the-key")
            let answer = try await forger.send(builder.invitee(index: 1))
            #expect(answer.status == 401)
            #expect(answer.problem?.code == "invalid_signature")
            #expect(answer.problem?.type == "tag:availd,2026:problem:invalid_signature")
            #expect(try await daemon.allEvents().isEmpty)
        }
    }

    @Test(arguments: [-200, 200] as [Int64])
    func aTimestampOutsideToleranceIsStale(offset: Int64) async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.sender.send(builder.invitee(index: 1), timestamp: Timestamp.now().unixSeconds + offset)
            #expect(answer.status == 401)
            #expect(answer.problem?.code == "stale_signature")
            #expect(try await daemon.allEvents().isEmpty)
        }
    }

    @Test func everyConfiguredKeyIsAccepted() async throws {
        let configuration = AvailServer.Configuration.testing(signingKeys: ["new-key", "old-key"])
        try await withDaemon(configuration) { daemon in
            let older = WebhookSender(baseURL: daemon.baseURL, signingKey: "old-key")
            let newer = WebhookSender(baseURL: daemon.baseURL, signingKey: "new-key")
            let fromOlder = try await older.send(builder.invitee(index: 1))
            let fromNewer = try await newer.send(builder.invitee(index: 2))
            #expect(fromOlder.status == 202)
            #expect(fromNewer.status == 202)
        }
    }

    @Test func theHeaderNameIsCaseInsensitive() async throws {
        try await withDaemon { daemon in
            let body = builder.invitee(index: 1)
            let header = WebhookSignature.sign(body, key: daemon.configuration.signingKeys[0], timestamp: Timestamp.now().unixSeconds)
            let connection = try RawHTTPConnection(port: daemon.port)
            await connection.send("POST /webhooks/calendly HTTP/1.1\r\nHost: localhost\r\ncontent-length: \(body.count)\r\ncalendly-WEBHOOK-signature: \(header.headerValue)\r\nConnection: close\r\n\r\n")
            await connection.send(body)
            let response = String(decoding: await connection.receive(), as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 202"), "\(response)")
        }
    }

    @Test func aSignedButUnusableBodyIsDeadLettered() async throws {
        try await withDaemon { daemon in
            let body = Data(#"{"event":"invitee.created","payload":"not an object"}"#.utf8)
            let answer = try await daemon.sender.send(body)
            #expect(answer.status == 400)
            #expect(answer.problem?.code == "invalid_payload")
            #expect(answer.problem?.detail == "`payload` is not an object")
            #expect(try await daemon.allEvents().isEmpty)
            let letters = try await daemon.adminGet("/dead-letters", as: DeadLetterPage.self).deadLetters
            #expect(letters.count == 1)
            #expect(letters.first?.code == "invalid_payload")
            #expect(letters.first.flatMap { Data(base64Encoded: $0.bodyBase64) } == body)
        }
    }

    /// SQLite text cannot hold U+0000: an event name or stream with one could be stored but
    /// never read back, and the projector would stop at it for good (found by schemathesis).
    @Test(arguments: [
        #"{"event":"invitee.created\u0000","payload":{}}"#,
        #"{"event":"routing_form_submission.created","payload":{"uri":"https://api.calendly.com/routing_form_submissions/a\u0000b"}}"#,
        #"{"event":"invitee_no_show.created","payload":{"invitee":"https://api.calendly.com/scheduled_events/e/invitees/\u0000"}}"#,
    ])
    func aNulInWhatTheLogKeepsAsTextIsDeadLettered(body: String) async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.sender.send(Data(body.utf8))
            #expect(answer.status == 400)
            #expect(answer.problem?.code == "invalid_payload")
            #expect(answer.problem?.detail.contains("NUL") == true)
            #expect(try await daemon.allEvents().isEmpty)
            // The projector carries on: a command is answered once projected.
            let created = try await daemon.call(.put, "/experts/ada", json: #"{"name":"Ada","email":"ada@example.com","timezone":"UTC"}"#)
            #expect(created.status == .ok)
        }
    }

    @Test func unsignedGarbageIsNotDeadLettered() async throws {
        try await withDaemon { daemon in
            _ = try await daemon.sender.send(Data("garbage".utf8), signatureHeader: nil)
            #expect(try await daemon.adminGet("/dead-letters", as: DeadLetterPage.self).deadLetters.isEmpty)
        }
    }

    @Test func anAnnouncedOversizedBodyIsRefusedBeforeItIsSent() async throws {
        try await withDaemon(.testing(maxBodyBytes: 1024)) { daemon in
            let connection = try RawHTTPConnection(port: daemon.port)
            await connection.send("POST /webhooks/calendly HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50000000\r\nCalendly-Webhook-Signature: t=1,v1=00\r\n\r\n")
            // No body follows: a server that waited for it would time out instead of answering.
            let response = String(decoding: await connection.receive(), as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 413"), "\(response)")
            #expect(response.contains("payload_too_large"))
        }
    }

    /// A chunked body with no length: the limit must cut in while reading. The body is
    /// endless for practical purposes (up to 256 MiB), so only a server that stops reading
    /// at the limit can answer.
    @Test func anEndlessBodyIsRefusedWhileReading() async throws {
        try await withDaemon(.testing(maxBodyBytes: 64 * 1024)) { daemon in
            let connection = try RawHTTPConnection(port: daemon.port)
            await connection.send("POST /webhooks/calendly HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nCalendly-Webhook-Signature: t=1,v1=00\r\n\r\n")
            let chunk = Data("10000\r\n".utf8) + Data(repeating: UInt8(ascii: "a"), count: 65_536) + Data("\r\n".utf8)
            var sent = 0
            while sent < 4096, !connection.hasDataToRead, await connection.send(chunk) {
                sent += 1
            }
            let response = String(decoding: await connection.receive(), as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 413"), "\(response.prefix(200))")
            #expect(sent < 4096)
        }
    }

    @Test func aBodyAtTheLimitIsAccepted() async throws {
        let body = builder.invitee(index: 1)
        try await withDaemon(.testing(maxBodyBytes: body.count)) { daemon in
            #expect(try await daemon.sender.send(body).status == 202)
            var larger = body
            larger.append(UInt8(ascii: " "))
            let answer = try await daemon.sender.send(larger)
            #expect(answer.status == 413)
            #expect(answer.problem?.code == "payload_too_large")
        }
    }
}
