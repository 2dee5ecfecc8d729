import AvailCore
import Foundation

/// A secret generated on first run and kept beside the database (`<database>.signing-key`,
/// `<database>.admin-token`), readable by the owner only, so restarts keep working.
struct SecretFile {
    let path: String

    init(database: String, suffix: String) {
        self.path = database + "." + suffix
    }

    /// The stored secret, or a new one written with mode 0600. `O_EXCL` makes two daemons
    /// starting at once agree on one secret rather than overwrite each other's.
    func loadOrCreate() throws -> String {
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let secret = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            if !secret.isEmpty { return secret }
        }
        let secret = Secret.generate()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { return try loadOrCreate() }
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try handle.write(contentsOf: Data((secret + "\n").utf8))
        try handle.synchronize()
        return secret
    }
}
