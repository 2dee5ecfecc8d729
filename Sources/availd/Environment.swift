import ArgumentParser
import Foundation

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
