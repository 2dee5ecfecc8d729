import AsyncHTTPClient
import AvailTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// An open settings page holds an event stream; stopping the daemon must end it, not wait for
/// the page to close, and so must revoking its token from the command line.
@Suite struct SettingsStreamTests {
    @Test func aStopEndsOpenStreamsAndExitsPromptly() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database))
        #expect(try await adminRequest("PUT", "/experts/ada", json: #"{"name":"Ada","email":"ada@experts.example","timezone":"UTC"}"#, port: port).status == 200)
        let issued = try await AvaildProcess.run(["token", "issue", "--expert", "ada", "--database", database])
        let token = try #require(issued.stdout.split(separator: "\n").first { $0.hasPrefix("token ") }?.dropFirst(6))

        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/experts/ada/availability-settings/stream")
        request.headers.add(name: "Cookie", value: "availd_session=\(token)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        #expect(response.status == .ok)
        var iterator = response.body.makeAsyncIterator()
        var text = ""
        while !text.contains(": connected"), let chunk = try await iterator.next() { text += String(buffer: chunk) }

        let stop = ContinuousClock.now
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(20)) == 0)
        #expect(ContinuousClock.now - stop < .seconds(10))
        // The stream ended with the daemon (cleanly or by the connection closing).
        var ended = false
        do {
            while try await iterator.next() != nil {}
            ended = true
        } catch {
            ended = true
        }
        #expect(ended)
    }

    /// `availd token issue|list|revoke` run in other processes, on either backend: the token is
    /// valid at once; the daemon notices a revocation at its next check of the stream's token
    /// (every few seconds) and ends the stream, and the token is refused from then on.
    @Test(arguments: Backend.allCases)
    func revokingTheTokenFromTheCommandLineEndsItsStream(backend: Backend) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try backend.database(in: folder)
        let (daemon, port) = try await AvaildProcess.serve(serveArguments(database) + backend.sharedSecrets)
        defer { daemon.signal(SIGKILL) }
        let unknown = try await AvaildProcess.run(["token", "issue", "--expert", "ada", "--database", database])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no expert ada: create it first"), "\(unknown.stderr)")
        #expect(try await adminRequest("PUT", "/experts/ada", json: #"{"name":"Ada","email":"ada@experts.example","timezone":"UTC"}"#, port: port).status == 200)
        let issued = try await AvaildProcess.run(["token", "issue", "--expert", "ada", "--label", "laptop", "--database", database])
        #expect(issued.status == 0, "\(issued.stderr)")
        let lines = issued.stdout.split(separator: "\n")
        let token = try #require(lines.first { $0.hasPrefix("token ") }?.dropFirst(6))
        let id = try #require(lines.first { $0.hasPrefix("id ") }?.dropFirst(3))
        #expect(try await adminRequest("GET", "/experts/ada", bearer: String(token), port: port).status == 200)
        let listed = try await AvaildProcess.run(["token", "list", "--expert", "ada", "--database", database])
        #expect(listed.stdout.split(separator: "\n").map { $0.split(separator: " ") }.map { [$0.first, $0.last] } == [[id, "laptop"]], "\(listed.stdout)")

        let stream = try await RawEventStream.open(port: port, expert: "ada", token: String(token))
        #expect(stream.isConnected, "\(stream.received)")
        let revoked = try await AvaildProcess.run(["token", "revoke", "--expert", "ada", "--id", String(id), "--database", database])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let ended = await stream.ends(within: 60)
        #expect(ended, "the stream outlived its token")
        #expect(try await adminRequest("GET", "/experts/ada", bearer: String(token), port: port).status == 401)
        let again = try await AvaildProcess.run(["token", "revoke", "--expert", "ada", "--id", String(id), "--database", database])
        #expect(again.status != 0)
        #expect(again.stderr.contains("expert ada has no valid token \(id)"), "\(again.stderr)")
        #expect(try await AvaildProcess.run(["token", "list", "--expert", "ada", "--database", database]).stdout.isEmpty)
    }
}
