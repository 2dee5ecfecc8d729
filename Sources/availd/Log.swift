import AvailServer
import Foundation
import Logging

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
