import AvailClient
import AvailTesting
import AvailWorkload
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

    /// Under systemd (`LoadCredential=`) or compose (`secrets:`) the secrets are files in
    /// `$CREDENTIALS_DIRECTORY`: read from there, after a flag and a variable, and nothing is
    /// generated beside the database.
    @Test func secretsComeFromTheCredentialsDirectory() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("availd.sqlite")
        let credentials = folder.path("credentials")
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: false)
        let sealingKey = String(repeating: "s", count: 40)
        for (name, value) in ["signing-keys": "new-key\nold-key\n", "admin-token": "credential-token\n", "secret-key": sealingKey] {
            FileManager.default.createFile(atPath: "\(credentials)/\(name)", contents: Data(value.utf8))
        }
        let (daemon, port) = try await AvaildProcess.serve(["--database", database], environment: ["CREDENTIALS_DIRECTORY": credentials])
        // Both keys of a rotation verify deliveries; another does not.
        for (index, key) in ["new-key", "old-key"].enumerated() {
            let answer = try await WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: key).send(DeliveryBuilder().invitee(index: index))
            #expect(answer.status == 202, "\(key)")
        }
        let forged = try await WebhookSender(baseURL: "http://127.0.0.1:\(port)", signingKey: "guessed").send(DeliveryBuilder().invitee(index: 9))
        #expect(forged.status == 401)
        #expect(try await adminRequest("GET", "/events", bearer: "credential-token", port: port).status == 200)
        #expect(try await adminRequest("GET", "/events", bearer: "e2e-admin-token", port: port).status == 401)
        for suffix in [".signing-key", ".admin-token", ".secret-key"] {
            #expect(!FileManager.default.fileExists(atPath: database + suffix), "\(suffix)")
        }
        let output = await daemon.stdoutText()
        #expect(!output.contains("credential-token") && !output.contains("new-key") && !output.contains(sealingKey))
        try await stop(daemon)

        // The variable beats the credential.
        let (second, secondPort) = try await AvaildProcess.serve(
            ["--database", database], environment: ["CREDENTIALS_DIRECTORY": credentials, "AVAILD_ADMIN_TOKEN": "variable-token"])
        #expect(try await adminRequest("GET", "/events", bearer: "variable-token", port: secondPort).status == 200)
        #expect(try await adminRequest("GET", "/events", bearer: "credential-token", port: secondPort).status == 401)
        try await stop(second)
    }

    /// A credential that is there but cannot be read stops `serve`, never falls back.
    @Test func anUnreadableCredentialFailsClearly() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let credentials = folder.path("credentials")
        try FileManager.default.createDirectory(atPath: "\(credentials)/admin-token", withIntermediateDirectories: true)
        let result = try await AvaildProcess.run(
            ["serve", "--database", folder.path("availd.sqlite"), "--port", "0"], environment: ["CREDENTIALS_DIRECTORY": credentials],
            timeout: .seconds(60))
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(credentials)/admin-token"), "\(result.stderr)")
        #expect(!result.stdout.contains("listening"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("availd.sqlite.admin-token")))
    }
}
