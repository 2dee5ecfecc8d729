import AvailClient
import AvailTesting
import AvailWorkload
import Foundation
import Testing

@Suite struct ServeTests {
    @Test func aFirstRunCreatesAndKeepsItsSecrets() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("var/availd.sqlite")
        let (first, port) = try await AvaildProcess.serve(["--database", database])
        let key = try await first.stdoutValue(after: "availd signing key: ")
        let token = try await first.stdoutValue(after: "availd admin token: ")
        #expect(key.count >= 43)
        #expect(token.count >= 43)
        for suffix in ["signing-key", "admin-token"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(database).\(suffix)")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        let answer = try await WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: key)
            .send(DeliveryBuilder().invitee(index: 1))
        #expect(answer.status == 202)
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)

        // Shown once, when created: a restart's output (often collected in a log) repeats neither.
        let (second, secondPort) = try await AvaildProcess.serve(["--database", database])
        let output = await second.stdoutText()
        #expect(!output.contains(key))
        #expect(!output.contains(token))
        #expect(output.contains("availd signing key kept in \(database).signing-key\n"))
        #expect(output.contains("availd admin token kept in \(database).admin-token\n"))
        let again = try await WebhookSender(baseURL: "http://127.0.0.1:\(secondPort)", signingKey: key)
            .send(DeliveryBuilder().invitee(index: 2))
        #expect(again.status == 202)
        second.signal(SIGINT)
        #expect(try await second.waitForExit() == 0)
    }

    @Test func environmentVariablesConfigureAndFlagsWin() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let environment = [
            "AVAILD_DATABASE": folder.path("env.sqlite"),
            "AVAILD_SIGNING_KEYS": "env-key-1, env-key-2",
            "AVAILD_ADMIN_TOKEN": "env-token",
            "AVAILD_MAX_BODY_BYTES": "100",
        ]
        let (daemon, port) = try await AvaildProcess.serve(["--max-body-bytes", "5000"], environment: environment)
        #expect(!(await daemon.stdoutText()).contains("signing key:"))
        let sender = WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: "env-key-2")
        #expect(try await sender.send(DeliveryBuilder().invitee(index: 1)).status == 202)
        #expect(FileManager.default.fileExists(atPath: folder.path("env.sqlite")))
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
    }

    /// SIGTERM stops taking connections but answers what is in flight; whatever got a 2xx is
    /// in the log afterwards.
    @Test func aGracefulStopAnswersInFlightRequests() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        let sender = WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: signingKey, timeout: .seconds(3))
        let bodies = (0..<400).map { DeliveryBuilder().invitee(index: $0, seed: "graceful") }
        let answers = await withTaskGroup(of: (Int, Int?).self) { group in
            for (index, body) in bodies.enumerated() {
                group.addTask {
                    if index == 100 { daemon.signal(SIGTERM) }
                    return (index, try? await sender.send(body).status)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(try await daemon.waitForExit() == 0)
        let acked = answers.filter { ($0.1 ?? 0) / 100 == 2 }.map(\.0)
        #expect(answers.allSatisfy { $0.1 == nil || $0.1 == 202 }, "only acknowledgements or refused connections")
        let export = try await AvaildProcess.run(["export", "--database", database])
        let stored = Set(export.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["body"] as? String
        })
        #expect(acked.allSatisfy { stored.contains(String(decoding: bodies[$0], as: UTF8.self)) })
    }

    @Test func aBadConfigurationFailsBeforeListening() async throws {
        let result = try await AvaildProcess.run(["serve", "--database", ":memory:", "--signing-key", "k", "--admin-token", "t", "--port", "70000"])
        #expect(result.status != 0)
        #expect(!result.stdout.contains("listening"))
        #expect(result.stderr.contains("port 70000 is out of range"))
    }
}
