import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server for the tests: Debian's `postgresql` binaries, `initdb` into a
/// temporary folder, listening on a loopback port, stopped and removed when the test process
/// exits. One server per test process (`shared`); each test takes a database of its own
/// (`newDatabase()`), so tests run in parallel without seeing each other.
///
/// PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (or
/// `nobody`), through `setpriv`.
public final class TestPostgres: Sendable {
    public let port: Int
    /// Superuser of the test cluster; trusted over loopback, as nothing else can reach it.
    public static let user = "availd"
    let folder: String
    let binaries: String
    let runAs: [String]

    /// The server of this test process, started by the first test that asks.
    public static let shared: Result<TestPostgres, any Error> = Result { try TestPostgres() }

    /// `shared`'s server, or why it could not start.
    public static func server() throws -> TestPostgres { try shared.get() }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private init() throws {
        guard let binaries = Self.findBinaries() else {
            throw Failure(description: """
                PostgreSQL's server binaries (initdb, pg_ctl) are not installed: the tests start a PostgreSQL of \
                their own. On Debian: apt-get install postgresql (make test installs it when run as root)
                """)
        }
        self.binaries = binaries
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("availd-postgres-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if getuid() == 0 {
            let (uid, gid) = Self.unprivilegedUser()
            guard chown(folder, uid, gid) == 0 else { throw Failure(description: "cannot give \(folder) to uid \(uid)") }
            runAs = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups"]
        } else {
            runAs = []
        }
        let run = { [binaries, runAs, folder] (name: String, arguments: [String]) throws in
            try Self.run(name, arguments, binaries: binaries, runAs: runAs, folder: folder)
        }
        try run("initdb", ["-D", "\(folder)/data", "-U", Self.user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        var started: Int?
        var lastError = ""
        // Below the kernel's ephemeral range (no `--port 0` listener or outgoing connection is
        // put there), and another try if a port was taken since it was checked.
        for port in LoopbackPorts.free(5) {
            do {
                try run("pg_ctl", [
                    "-D", "\(folder)/data", "-l", "\(folder)/server.log", "-w", "-t", "60", "-o",
                    "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories=\(folder) -c max_connections=300",
                    "start",
                ])
                started = port
                break
            } catch {
                lastError = "\(error)"
            }
        }
        guard let started else { throw Failure(description: "PostgreSQL did not start: \(lastError)") }
        port = started
        Self.stopAtExit(command: (runAs + ["\(binaries)/pg_ctl", "-D", "\(folder)/data", "-m", "immediate", "stop"]), folder: folder)
    }

    /// A new, empty database on the server: its `postgres://` URL.
    public func newDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try run("createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, name])
        return url(database: name)
    }

    /// A new database holding what `pg_dump -Fc` of the database at `url` wrote, put back by
    /// `pg_restore`: the backup and restore the README gives. Its URL.
    public func restoredCopy(of url: String) throws -> String {
        guard let source = url.split(separator: "/").last.map(String.init) else { throw Failure(description: "no database in \(url)") }
        let copy = try newDatabase()
        let dump = "\(folder)/\(source).dump"
        defer { unlink(dump) }
        let connection = ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user]
        try run("pg_dump", connection + ["-Fc", "-f", dump, source])
        try run("pg_restore", connection + ["--exit-on-error", "--no-owner", "-d", String(copy.split(separator: "/").last!), dump])
        return copy
    }

    public func url(database: String) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)"
    }

    /// Runs PostgreSQL's program `name` as the server's user, to completion.
    @discardableResult
    public func run(_ name: String, _ arguments: [String]) throws -> String {
        try Self.run(name, arguments, binaries: binaries, runAs: runAs, folder: folder)
    }

    private static func run(_ name: String, _ arguments: [String], binaries: String, runAs: [String], folder: String) throws -> String {
        let command = runAs + ["\(binaries)/\(name)"] + arguments
        // Output into a file, not a pipe, and no descriptor inherited: the server that
        // `pg_ctl start` leaves running would hold a pipe open and keep it from ending.
        let outputPath = "\(folder)/\(name)-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        let pid = try AvaildProcess.spawning.withLock { _ in
            let output = open(outputPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard output >= 0 else { throw Failure(description: "cannot create \(outputPath): errno \(errno)") }
            defer { close(output) }
            // The server's user may not be allowed into the test's working directory, so the
            // command runs from the cluster's folder.
            return try AvaildProcess.spawn(
                ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", folder] + command,
                environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" },
                stdout: output, stderr: output)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw Failure(description: "\(name) \(arguments.joined(separator: " ")) ended with status \(status): \(text)")
        }
        return text
    }

    /// The newest of `/usr/lib/postgresql/*/bin` (Debian keeps the server's programs off PATH),
    /// else a folder on PATH that has both `initdb` and `pg_ctl`.
    private static func findBinaries() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        let candidates = versions.map { "\(root)/\($0)/bin" }
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return candidates.first { folder in
            ["initdb", "pg_ctl", "createdb"].allSatisfy { FileManager.default.isExecutableFile(atPath: "\(folder)/\($0)") }
        }
    }

    private static func unprivilegedUser() -> (uid_t, gid_t) {
        for name in ["postgres", "nobody"] {
            if let entry = getpwnam(name) { return (entry.pointee.pw_uid, entry.pointee.pw_gid) }
        }
        return (65534, 65534)
    }

    private static func stopAtExit(command: [String], folder: String) {
        let quoted = command.map { "'\($0)'" }.joined(separator: " ")
        shutdownCommand.withLock { $0 = "\(quoted) >/dev/null 2>&1; rm -rf '\(folder)'" }
        atexit {
            if let command = TestPostgres.shutdownCommand.withLock({ $0 }) { _ = system(command) }
        }
    }

    private static let shutdownCommand = Mutex<String?>(nil)
}
