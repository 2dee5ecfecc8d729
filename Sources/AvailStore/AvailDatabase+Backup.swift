import Foundation
import GRDB

extension AvailDatabase {
    /// Why a backup was not made.
    public struct BackupFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes a consistent copy of the log's file to `path`, beside a running daemon, and
    /// checks it: the log and everything kept with it (tokens, connections, dead letters,
    /// subscriptions, checkpoints). The read models are not copied: a daemon started on the
    /// copy folds them anew from its log.
    ///
    /// SQLite's backup API copies the file from one read transaction, a snapshot: appends go
    /// on meanwhile and are not in the copy. The copy is written under a temporary name (mode
    /// 0600), put in rollback-journal mode so that it is one self-contained file, its log
    /// verified (`LogVerifier`), then synced and renamed into place: a file at `path` is
    /// always a whole, verified copy. `path` must not exist.
    public func backup(to path: String) throws -> LogVerification {
        guard self.path != nil else { throw BackupFailure(description: "an in-memory database has nothing to back up") }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw BackupFailure(description: "\(path) exists; availd backup writes a new file only")
        }
        let partial = "\(path).partial-\(getpid())"
        let descriptor = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BackupFailure(description: "cannot create \(partial): \(String(cString: strerror(errno)))") }
        close(descriptor)
        var renamed = false
        defer {
            if !renamed { for suffix in ["", "-journal", "-wal", "-shm"] { unlink(partial + suffix) } }
        }

        let copy = try DatabaseQueue(path: partial)
        try writer.backup(to: copy)
        let verification = try copy.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
            return try EventLog.verify(db)
        }
        try copy.close()
        guard verification.isIntact else {
            throw BackupFailure(description: "the copy's log does not verify: \(verification.problems.joined(separator: "; "))")
        }
        try Self.sync(partial)
        guard rename(partial, path) == 0 else {
            throw BackupFailure(description: "cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))")
        }
        renamed = true
        try Self.sync(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        return verification
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BackupFailure(description: "cannot open \(path) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BackupFailure(description: "cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
