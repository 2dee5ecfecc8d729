import AvailClient
import AvailTesting
import Foundation
import Testing

/// The secrets `serve` generates beside the database, and the files it creates: owner-only,
/// written atomically, shown only when created.
@Suite struct SecretFileTests {
    func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    func stop(_ daemon: AvaildProcess, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0, sourceLocation: sourceLocation)
    }

    /// A crash between creating a secret file and writing it leaves it empty: nothing can have
    /// used an empty key, so the next start writes a new one.
    @Test func anEmptySecretFileIsReplaced() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        FileManager.default.createFile(atPath: "\(database).signing-key", contents: Data())
        FileManager.default.createFile(atPath: "\(database).admin-token", contents: Data(" \n\t\n".utf8))
        let (daemon, port) = try await AvaildProcess.serve(["--database", database])
        let key = try await daemon.stdoutValue(after: "availd signing key: ")
        let token = try await daemon.stdoutValue(after: "availd admin token: ")
        #expect(key.count >= 43)
        #expect(token.count >= 43)
        #expect(try String(contentsOfFile: "\(database).signing-key", encoding: .utf8) == key + "\n")
        #expect(try String(contentsOfFile: "\(database).admin-token", encoding: .utf8) == token + "\n")
        let answer = try await WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: key).send(DeliveryBuilder().invitee(index: 1))
        #expect(answer.status == 202)
        try await stop(daemon)
    }

    /// A secret file that cannot be read is not overwritten (it may hold the key Calendly
    /// signs with): `serve` says so and exits.
    @Test func anUnreadableSecretFileFailsClearly() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        try FileManager.default.createDirectory(atPath: "\(database).signing-key", withIntermediateDirectories: false)
        let result = try await AvaildProcess.run(["serve", "--database", database, "--port", "0"], timeout: .seconds(60))
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("\(database).signing-key"), "\(result.stderr)")
        #expect(!result.stdout.contains("listening"))
    }

    /// Under the usual umask (022) too, what availd creates is its owner's only.
    @Test func theDatabaseAndItsSecretsAreOwnerOnly() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("var/availd.sqlite")
        let (daemon, port) = try await AvaildProcess.serve(["--database", database], shellPrefix: "umask 022;")
        let key = try await daemon.stdoutValue(after: "availd signing key: ")
        let answer = try await WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: key).send(DeliveryBuilder().invitee(index: 1))
        #expect(answer.status == 202)
        for suffix in ["", "-wal", "-shm", ".signing-key", ".admin-token", ".secret-key"] {
            #expect(try mode(database + suffix) == 0o600, "\(database + suffix)")
        }
        // The key that seals Calendly tokens is created, said where, and never printed.
        let output = await daemon.stdoutText()
        #expect(output.contains("availd secret key created in \(database).secret-key"))
        let sealingKey = try String(contentsOfFile: database + ".secret-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(sealingKey.count >= 32 && !output.contains(sealingKey))
        #expect(try mode(folder.path("var")) == 0o700)
        try await stop(daemon)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path("var")).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty)
    }
}
