import ArgumentParser
import AvailServer
import Foundation
import Logging

/// Every option also reads an environment variable; a flag beats the variable.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
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
    @Option(name: .long, help: "The SQLite database file, or :memory: [AVAILD_DATABASE, default ./var/availd.sqlite].")
    var database: String?

    var path: String { database ?? Environment.value("AVAILD_DATABASE") ?? "./var/availd.sqlite" }

    /// The database path, its folder created if missing.
    func preparedPath() throws -> String {
        let path = self.path
        if path != ":memory:" {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        return path
    }
}

/// One logger for the process, to standard error; standard output carries only the lines
/// CONTRACT.md promises. `AVAILD_LOG_LEVEL` (trace…critical, default info) sets the level.
enum Log {
    /// Every line goes through a `RedactingLogHandler`: `secrets`, expert tokens, bearer
    /// credentials and emails never reach the log.
    static func bootstrap(label: String = "availd", secrets: [String] = []) -> Logger {
        let redactor = Redactor(secrets: secrets)
        LoggingSystem.bootstrap { RedactingLogHandler(StreamLogHandler.standardError(label: $0), redactor: redactor) }
        var logger = Logger(label: label)
        logger.logLevel = Environment.value("AVAILD_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }
}

/// Writes a line to standard output at once (it may be a pipe read by a supervisor or a test).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
