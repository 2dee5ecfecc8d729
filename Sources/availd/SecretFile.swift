import AvailCore
import Foundation

/// A secret generated on first run and kept beside the database (`<database>.signing-key`,
/// `<database>.admin-token`), readable by the owner only, so restarts keep working.
///
/// A new secret is written to a temporary file (mode 0600, synced) that is then linked into
/// place and the folder synced: a crash leaves the old state or the whole secret, never a
/// part. `link` fails when the file exists, so two daemons starting at once agree on one
/// secret. A file that is empty or only white space (what a crash of an older availd between
/// creating and writing left) is replaced: no client can hold an empty key. A file that cannot
/// be read is an error, never overwritten: it may hold the key Calendly signs with.
struct SecretFile {
    let path: String

    init(database: String, suffix: String) {
        self.path = database + "." + suffix
    }

    /// Why the secret cannot be had; `serve` stops with this.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The stored secret, and whether this call created it.
    func loadOrCreate() throws -> (secret: String, created: Bool) {
        // Bounded: only another process replacing the file at the same moment loops.
        for _ in 0..<5 {
            let stored = try read()
            if let stored, !stored.isEmpty { return (stored, false) }
            let secret = Secret.generate()
            if try write(secret, replacing: stored != nil) { return (secret, true) }
        }
        throw Failure(description: "the secret file \(path) keeps changing while availd starts")
    }

    /// The stored secret; nil when there is none yet (nothing is created: for commands that
    /// only use what `serve` keeps).
    func existing() throws -> String? {
        guard let stored = try read(), !stored.isEmpty else { return nil }
        return stored
    }

    /// The trimmed contents; nil when there is no such file.
    private func read() throws -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot read the secret file \(path)")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "the secret file \(path) is not a regular file; remove it or pass the secret as an option")
        }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw Failure(description: "cannot read the secret file \(path): \(error)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Failure(description: "the secret file \(path) is not UTF-8 text")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `secret` atomically: over the file when `replacing`, else only if there is none
    /// (false when another process created it first).
    private func write(_ secret: String, replacing: Bool) throws -> Bool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary)") }
        defer { unlink(temporary) }
        do {
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            guard fchmod(descriptor, 0o600) == 0 else { throw failure("cannot restrict \(temporary) to its owner") }
            try handle.write(contentsOf: Data((secret + "\n").utf8))
            try handle.synchronize()
        }
        if replacing {
            guard rename(temporary, path) == 0 else { throw failure("cannot replace the secret file \(path)") }
        } else if link(temporary, path) != 0 {
            if errno == EEXIST { return false }
            // A file system without hard links: rename, which cannot refuse an existing file.
            guard [EPERM, EOPNOTSUPP, ENOTSUP].contains(errno), rename(temporary, path) == 0 else {
                throw failure("cannot create the secret file \(path)")
            }
        }
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw failure("cannot sync the folder \(folder)") }
        defer { close(directory) }
        guard fsync(directory) == 0 else { throw failure("cannot sync the folder \(folder)") }
        return true
    }

    /// `what` failed, and the system's reason (errno).
    private func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
