import ArgumentParser
import AvailPostgres
import AvailServer
import AvailStore
import Foundation
import Logging

/// Every option also reads an environment variable; a flag beats the variable. A secret also
/// reads a credential file (`secret(_:credential:)`), after the variable.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A secret: the variable, else the file `credential` in `$CREDENTIALS_DIRECTORY` (what
    /// systemd's `LoadCredential=` and compose's `secrets:` provide), trimmed; nil when neither
    /// has one. A credential file that exists but cannot be read is an error, never skipped.
    static func secret(_ name: String, credential: String) throws -> String? {
        if let value = value(name) { return value }
        guard let folder = value("CREDENTIALS_DIRECTORY") else { return nil }
        let path = folder + "/" + credential
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read the credential \(path) as UTF-8 text")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Signing keys: comma- or newline-separated (a rotation lists the new key and the old).
    static func signingKeys() throws -> [String] {
        (try secret("AVAILD_SIGNING_KEYS", credential: "signing-keys") ?? "")
            .split(whereSeparator: { $0 == "," || $0.isNewline })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    static func parse<T>(_ name: String, as type: T.Type, _ convert: (String) -> T?) throws -> T? {
        guard let text = value(name) else { return nil }
        guard let parsed = convert(text) else {
            throw ValidationError("\(name)=\(text) is not a valid \(T.self)")
        }
        return parsed
    }
}

struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The SQLite database file, or :memory:, or postgres://USER@HOST[:PORT]/DATABASE [AVAILD_DATABASE, default ./var/availd.sqlite].")
    var database: String?

    var path: String { database ?? Environment.value("AVAILD_DATABASE") ?? "./var/availd.sqlite" }

    /// Whether `path` is a `postgres://` URL rather than an SQLite file.
    var isPostgres: Bool { AvailPostgresDatabase.isURL(path) }

    /// The password for a `postgres://` URL that has none [AVAILD_DATABASE_PASSWORD, or the
    /// credential database-password].
    func postgresPassword() throws -> String? {
        try Environment.secret("AVAILD_DATABASE_PASSWORD", credential: "database-password")
    }

    /// The database path, its folder created if missing; a `postgres://` URL as it is.
    func preparedPath() throws -> String {
        let path = self.path
        // Never a folder named after a URL.
        if path != ":memory:", !isPostgres {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        return path
    }
}

/// One logger for the process, to standard error; standard output carries only the lines
/// the README's "Commands" promises. `AVAILD_LOG_LEVEL` (trace…critical, default info) sets the
/// level; `AVAILD_LOG_FORMAT=json` writes one JSON object per line instead of text.
enum Log {
    /// Every line goes through a `RedactingLogHandler`: `secrets`, expert tokens, bearer
    /// credentials and emails never reach the log.
    static func bootstrap(label: String = "availd", secrets: [String] = []) -> Logger {
        let redactor = Redactor(secrets: secrets)
        let format = Environment.value("AVAILD_LOG_FORMAT") ?? "text"
        guard ["text", "json"].contains(format) else {
            FileHandle.standardError.write(Data("Error: AVAILD_LOG_FORMAT is text or json, not \(format)\n".utf8))
            exit(64)
        }
        let json = format == "json"
        LoggingSystem.bootstrap { label in
            RedactingLogHandler(json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label), redactor: redactor)
        }
        var logger = Logger(label: label)
        logger.logLevel = Environment.value("AVAILD_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }
}

/// Writes a line to standard output at once (it may be a pipe read by a supervisor or a test).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension DatabaseOptions {
    /// Runs `body` with the log of `--database`, SQLite or PostgreSQL, for the commands that
    /// need only the log; `sqlite` is the SQLite database when it is one (its read models).
    func withLog<T: Sendable>(
        _ body: @Sendable (_ log: any EventStore, _ sqlite: AvailDatabase?) async throws -> T
    ) async throws -> T {
        if isPostgres {
            return try await withPostgres { try await body(PostgresEventLog(database: $0), nil) }
        }
        _ = Log.bootstrap()
        let database = try LogDatabase.open(path: try preparedPath())
        return try await body(database.log, database)
    }

    /// The process's logger (`Log.bootstrap`, once), which keeps `secrets` and the database's
    /// password out of every line.
    func logger(secrets: [String?] = []) throws -> Logger {
        Log.bootstrap(secrets: (secrets + [try postgresPassword()]).compactMap { $0 })
    }

    /// Runs `body` with the database `--database` names, SQLite or PostgreSQL, opened and
    /// migrated.
    func withDatabase<T: Sendable>(logger: Logger, _ body: (DaemonDatabase) async throws -> T) async throws -> T {
        try await DaemonDatabase.with(path: try preparedPath(), password: try postgresPassword(), logger: logger, body)
    }

    /// The secret `suffix` (`secret-key`, `signing-key`) in its file beside an SQLite database,
    /// if it exists; nil for `:memory:` and PostgreSQL, which keep none beside them.
    func existingSecretFile(_ suffix: String) throws -> String? {
        guard path != ":memory:", !isPostgres else { return nil }
        return try SecretFile(database: path, suffix: suffix).existing()
    }

    /// Runs `body` with the PostgreSQL database `--database` names (a `postgres://` URL).
    func withPostgres<T: Sendable>(_ body: @Sendable (AvailPostgresDatabase) async throws -> T) async throws -> T {
        let password = try postgresPassword()
        let logger = Log.bootstrap(secrets: [password].compactMap { $0 })
        return try await AvailPostgresDatabase.withDatabase(url: path, password: password, logger: logger, body)
    }
}
