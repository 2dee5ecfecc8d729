import AsyncHTTPClient
import AvailClient
import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The logs of a whole flow, at the most verbose level, hold no token, no signing key and no
/// email address: expert tokens issued and revoked, wrong tokens tried, a Calendly connection,
/// a booking and a cancellation through the Calendly stand-in and its signed webhooks,
/// deliveries with invitees, a bad signature, and a dead letter.
@Suite struct LogHygieneTests {
    @Test func aFullFlowLogsNoSecretAndNoEmail() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        let key = Secret.generate()
        let admin = Secret.generate()
        let calendlyToken = "calendly-token-admin"
        var secrets = [key, admin, calendlyToken]
        var emails: Set<String> = []

        let standIn = try AvaildProcess("availd-sim", [
            "calendly", "--port", "0", "--state", TestPaths.fixtures.appendingPathComponent("calendly-api/state.json").path])
        defer { standIn.signal(SIGTERM) }
        let calendly = try await standIn.stdoutValue(after: "calendly stand-in listening on ")
        let (daemon, port) = try await AvaildProcess.serve(
            ["--database", database, "--signing-key", key, "--admin-token", admin,
             "--calendly-api", calendly, "--calendly-token", calendlyToken, "--calendly-window-days", "7"],
            environment: ["AVAILD_LOG_LEVEL": "trace"])
        func call(_ method: String, _ path: String, _ json: String? = nil, as bearer: String? = admin) async throws -> (status: Int, json: [String: Any]) {
            emails.formUnion(Self.emails(in: json ?? ""))
            return try await adminRequest(method, path, json: json, bearer: bearer, port: port)
        }

        // Calendly's webhooks for what the stand-in books and cancels, signed with the key.
        #expect(try await standInRequest("POST", "\(calendly)/_sim/webhooks",
                                         json: #"{"url":"http://127.0.0.1:\#(port)/webhooks/calendly","signing_key":"\#(key)"}"#) == 204)
        let profile = #"{"name":"Ada Lovelace","email":"ada.lovelace@experts.example","timezone":"Europe/London"}"#
        #expect(try await call("PUT", "/experts/ada", profile).status == 200)
        #expect(try await call("PUT", "/experts/ada/integration", #"{"type":"calendly","event_link":"https://calendly.com/ada-lovelace/30min"}"#).status == 200)

        // A token from the command line, one over HTTP; wrong ones refused.
        let issued = try await AvaildProcess.run(["token", "issue", "--expert", "ada", "--label", "laptop", "--database", database])
        #expect(issued.status == 0, "\(issued.stderr)")
        let token = try #require(issued.stdout.split(separator: "\n").first { $0.hasPrefix("token ") }.map { String($0.dropFirst(6)) })
        let second = try await call("POST", "/experts/ada/tokens", #"{"label":"phone"}"#)
        #expect(second.status == 201)
        let secondToken = try #require(second.json["token"] as? String)
        let wrong = ExpertToken.generate().bearer
        secrets += [token, secondToken, wrong, "not-a-real-token-value"]
        #expect(try await call("GET", "/experts/ada", as: token).status == 200)
        #expect(try await call("GET", "/experts/ada", as: wrong).status == 401)
        #expect(try await call("GET", "/experts/ada", as: "not-a-real-token-value").status == 401)
        #expect(try await call("GET", "/events", as: token).status == 403)
        // Clients put anything in a path, and paths are logged.
        #expect(try await call("GET", "/experts/iris.invitee@example.org/appointments", as: token).status == 400)
        #expect(try await call("GET", "/appointments/\(wrong)", as: token).status == 404)

        // A booking through Calendly, its webhook, and a cancellation.
        let day: Int64 = 86_400_000_000
        let from = Timestamp(microseconds: Timestamp.now().microseconds + day)
        let to = Timestamp(microseconds: from.microseconds + 6 * day)
        let slots = try await call("GET", "/experts/ada/availability?start_time=\(from)&end_time=\(to)", as: nil)
        let slot = try #require((slots.json["slots"] as? [[String: Any]])?.first?["start_time"] as? String)
        let booked = try await call("POST", "/experts/ada/appointments",
                                    #"{"start_time":"\#(slot)","invitee":{"name":"Iris Invitee","email":"iris.invitee@example.org"}}"#, as: token)
        #expect(booked.status == 201)
        let appointment = try #require(booked.json["id"] as? String)
        #expect(try await call("POST", "/appointments/\(appointment)/cancel", #"{"reason":"mail me at iris.invitee@example.org"}"#, as: token).status == 200)

        // Deliveries with invitees; a bad signature; a signed body that is no delivery.
        let sender = WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: key)
        for index in 0..<5 {
            let body = DeliveryBuilder().invitee(index: index, seed: "hygiene")
            emails.formUnion(Self.emails(in: String(decoding: body, as: UTF8.self)))
            #expect(try await sender.send(body).status == 202)
        }
        let forged = try await WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: "not-the-key-at-all")
            .send(DeliveryBuilder().invitee(index: 9, seed: "hygiene"))
        #expect(forged.status == 401)
        let deadLetter = Data(#"{"event":"invitee.created","payload":"dead.letter@example.org"}"#.utf8)
        emails.insert("dead.letter@example.org")
        #expect(try await sender.send(deadLetter).status == 400)

        // Revocations; then wait for the stand-in's webhooks to land before stopping.
        let secondID = try #require(second.json["id"] as? String)
        #expect(try await call("DELETE", "/experts/ada/tokens/\(secondID)", as: token).status == 204)
        for _ in 0..<100 where try await standInOutstanding(calendly) > 0 { try await Task.sleep(for: .milliseconds(50)) }
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)

        let logs = await daemon.stderrText() + daemon.stdoutText()
        #expect(logs.contains("http.request"), "the flow logged nothing at trace level")
        #expect(logs.contains("/experts/ada/appointments"))
        #expect(logs.contains("/experts/email:"), "the path with an email was not logged, hashed")
        emails.insert("ada.lovelace@experts.example")
        #expect(emails.count >= 8)
        for secret in secrets {
            #expect(!logs.contains(secret), "a secret is in the logs")
        }
        for email in emails {
            #expect(!logs.localizedCaseInsensitiveContains(email), "\(email) is in the logs")
        }
        #expect(!logs.contains("@example"), "something like an email is in the logs")
    }

    /// `AVAILD_LOG_FORMAT=json`: every line on standard error is one JSON object with its
    /// time, level, logger and message, and what it says is redacted as the text lines are.
    @Test func jsonLogsAreOneRedactedObjectPerLine() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let (daemon, port) = try await AvaildProcess.serve(
            serveArguments(folder.path("availd.sqlite")), environment: ["AVAILD_LOG_FORMAT": "json", "AVAILD_LOG_LEVEL": "trace"])
        #expect(try await adminRequest("GET", "/experts/iris.invitee@example.org/appointments", port: port).status == 400)
        #expect(try await adminRequest("GET", "/experts/ada", bearer: "not-a-token-\(signingKey)", port: port).status == 401)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        let logs = await daemon.stderrText()
        let lines = logs.split(separator: "\n")
        #expect(lines.count > 5, "\(logs)")
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["message"] is String && object?["label"] is String, "\(line)")
            #expect((object?["level"] as? String).map { ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains($0) } == true)
            #expect((object?["timestamp"] as? String).flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) } != nil, "\(line)")
        }
        #expect(logs.contains("\"metadata\":{"))
        #expect(!logs.contains(signingKey) && !logs.contains(adminToken) && !logs.contains("@example.org"))

        let refused = try await AvaildProcess.run(["export", "--database", folder.path("availd.sqlite")], environment: ["AVAILD_LOG_FORMAT": "xml"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("AVAILD_LOG_FORMAT is text or json, not xml"))
    }

    static func emails(in text: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#)
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
    }
}

/// A request to the stand-in's `_sim` API; its status.
func standInRequest(_ method: String, _ url: String, json: String) async throws -> Int {
    var request = HTTPClientRequest(url: url)
    request.method = HTTPMethod(rawValue: method)
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(string: json))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    _ = try await response.body.collect(upTo: 1 << 20)
    return Int(response.status.code)
}

/// How many webhooks the stand-in has yet to send.
func standInOutstanding(_ calendly: String) async throws -> Int {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(calendly)/_sim/webhooks/outstanding"), timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 1 << 10)
    return Int(String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
}
