import Foundation
import GRDB
import Synchronization

/// Where the read models live: a SQLite file of their own beside the log's,
/// `<log file>.read-models-<N>`, with its own writer and WAL, so an append never waits for the
/// projector and a projected batch never delays a delivery.
///
/// A rebuild writes generation N+1 from scratch into a fresh file that nothing reads, then
/// points the log's file at it (`read_models.generation`, one durable write): a crash leaves
/// the old read models or the new ones, never a mix. A running daemon's projector sees the
/// pointer move, brings the new generation up to where it had got, and moves its readers to it
/// (`newerGeneration(than:)`, `adopt`).
///
/// Every process that opens a generation holds a shared `flock` on its file. A generation that
/// nothing points at and no process holds (the one a rebuild replaced, once the daemon let it
/// go; the half-written one of a rebuild that was killed) is deleted by whoever looks next.
public final class ReadModelStore: Sendable {
    private let log: any DatabaseWriter
    /// The log's file; nil when everything is in memory.
    private let logPath: String?
    private let current: Mutex<ReadModelGeneration>
    /// Generations this process built in memory (a file needs no such list).
    private let builtInMemory = Mutex<[Int64: ReadModelGeneration]>([:])
    /// Whether the last look left generation files behind (still held by someone).
    private let leftovers = Atomic<Bool>(false)

    /// The generation readers use now.
    public var generation: ReadModelGeneration { current.withLock { $0 } }

    /// Opens the generation the log's file points at. If there is none (a new database, or one
    /// from before the read models had a file of their own), or it is missing or of another
    /// schema, a fresh empty one is made at position 0, for the projector to fold the log into.
    static func open(log: any DatabaseWriter, logPath: String?) throws -> ReadModelStore {
        if let opened = try? ReadModelGeneration.open(try pointer(log), logPath: logPath), opened.isCurrentSchema {
            return ReadModelStore(log: log, logPath: logPath, current: opened)
        }
        // Under the log's write lock, so that two processes opening at once agree on one.
        let generation = try log.writeWithoutTransaction { db -> ReadModelGeneration in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            var generation: ReadModelGeneration?
            try db.inTransaction(.immediate) {
                let number = try pointer(db)
                if let opened = try? ReadModelGeneration.open(number, logPath: logPath), opened.isCurrentSchema {
                    generation = opened
                } else {
                    let fresh = try ReadModelGeneration.create(numberedFrom: nextNumber(after: number, logPath: logPath), logPath: logPath) {
                        try ReadModelSchema.create($0)
                    }
                    try setPointer(fresh.number, db)
                    generation = fresh
                }
                return .commit
            }
            return generation!
        }
        return ReadModelStore(log: log, logPath: logPath, current: generation)
    }

    private init(log: any DatabaseWriter, logPath: String?, current: ReadModelGeneration) {
        self.log = log
        self.logPath = logPath
        self.current = Mutex(current)
        removeUnused()
    }

    /// Builds a new generation: `write` fills an empty file (its tables made, its indexes not
    /// yet: they are made after the rows, which is faster), with no journal, since a failed
    /// build is thrown away whole. Nothing reads it until `publish`. Its number is the first
    /// free one above every generation there is: two builds at once (two `availd rebuild`s) get
    /// two numbers. Returns it with what `write` returned.
    func build<Written: Sendable>(_ write: @escaping @Sendable (Database) throws -> Written) async throws
        -> (generation: ReadModelGeneration, written: Written)
    {
        let floor = max(try await log.read { db in try Self.pointer(db) }, generation.number)
        let logPath = self.logPath
        return try await Task.detached {
            var written: Written?
            let generation = try ReadModelGeneration.create(
                numberedFrom: Self.nextNumber(after: floor, logPath: logPath), logPath: logPath
            ) { db in
                try db.execute(sql: ReadModelSchema.tables)
                written = try write(db)
                try db.execute(sql: ReadModelSchema.indexes)
                try db.execute(sql: "PRAGMA user_version = \(ReadModelSchema.version)")
            }
            return (generation, written!)
        }.value
    }

    /// Points the log's file at `built`, durably. This process's readers move to it at once,
    /// unless they are ahead of it (a projector here applied more than the rebuild folded):
    /// then the projector moves them once it has brought `built` up to date.
    func publish(_ built: ReadModelGeneration) async throws {
        if logPath == nil { builtInMemory.withLock { $0[built.number] = built } }
        try await log.durableWrite { db in try Self.setPointer(built.number, db) }
        if try await built.checkpoint() >= generation.checkpoint() { adopt(built) }
    }

    /// The generation the log's file points at, if it is newer than `number`: a rebuild ran.
    public func newerGeneration(than number: Int64) async throws -> ReadModelGeneration? {
        let pointed = try await log.read { db in try Self.pointer(db) }
        guard pointed > number else { return nil }
        let current = generation
        if current.number == pointed { return current }
        if logPath == nil { return builtInMemory.withLock { $0[pointed] } }
        return try ReadModelGeneration.open(pointed, logPath: logPath)
    }

    /// Readers use `next` from now on (if it is newer than theirs); the generation they leave
    /// is deleted once no process holds it.
    public func adopt(_ next: ReadModelGeneration) {
        let adopted = current.withLock { current in
            guard next.number > current.number else { return false }
            current = next
            return true
        }
        guard adopted else { return }
        builtInMemory.withLock { built in built = built.filter { $0.key > next.number } }
        removeUnused()
    }

    /// Deletes the generation files that nothing points at and no process holds.
    public func removeUnused() {
        guard let logPath else { return }
        let ours = generation.number
        var left = false
        for (number, path) in ReadModelGeneration.files(logPath: logPath) where number != ours {
            let removed = ReadModelGeneration.remove(path) { [log] in
                // Read again with the file locked: a rebuild may have pointed at it meanwhile
                // (it releases its lock only after pointing), and the pointer never goes back.
                (try? Self.pointer(log)).map { $0 != number } ?? false
            }
            if !removed { left = true }
        }
        leftovers.store(left, ordering: .relaxed)
    }

    /// `removeUnused`, if the last look left files behind: the generation this process left
    /// is let go only once the reads still using it are done, so the projector asks again.
    public func removeLeftovers() {
        if leftovers.load(ordering: .relaxed) { removeUnused() }
    }

    // MARK: The pointer, in the log's file

    static func pointer(_ log: any DatabaseWriter) throws -> Int64 {
        try log.read { db in try pointer(db) }
    }

    static func pointer(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT generation FROM read_models") ?? 0
    }

    /// Moves the pointer forward (never back: of two rebuilds, the later-numbered wins).
    static func setPointer(_ number: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE read_models SET generation = ? WHERE generation < ?", arguments: [number, number])
    }

    /// A number above `floor` and above every generation file there is (another process may
    /// take it before this one does: `create` then takes the next).
    private static func nextNumber(after floor: Int64, logPath: String?) -> Int64 {
        guard let logPath else { return floor + 1 }
        return max(floor, ReadModelGeneration.files(logPath: logPath).map(\.number).max() ?? 0) + 1
    }
}

/// One generation of the read models, open: its connections and, for a file, the shared lock
/// that keeps other processes from deleting it while this one may use it.
public final class ReadModelGeneration: Sendable {
    public let number: Int64
    let database: any DatabaseWriter
    private let lock: FileLock?

    private init(number: Int64, database: any DatabaseWriter, lock: FileLock?) {
        self.number = number
        self.database = database
        self.lock = lock
    }

    /// The last log position this generation includes.
    public func checkpoint() async throws -> Int64 {
        try await database.read { db in try ReadModels.checkpoint(db) }
    }

    var isCurrentSchema: Bool {
        (try? database.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") }) == ReadModelSchema.version
    }

    static func path(_ number: Int64, logPath: String) -> String { "\(logPath).read-models-\(number)" }

    /// Opens generation `number`'s file, which must be there.
    static func open(_ number: Int64, logPath: String?) throws -> ReadModelGeneration {
        guard let logPath, number > 0 else { throw DatabaseError(message: "there are no read models of generation \(number)") }
        let path = path(number, logPath: logPath)
        guard let lock = FileLock(existing: path, mode: LOCK_SH) else { throw DatabaseError(message: "the read models \(path) are missing") }
        return ReadModelGeneration(number: number, database: try pool(path), lock: lock)
    }

    /// Creates a generation numbered `first`, or the next number that is free if another
    /// process took `first` since it was chosen (whoever creates the file has the number),
    /// filling it with `fill` on one connection with no journal and no fsync until the end;
    /// its page cache is small (16 MiB), so the pages the rows fill are written out as they
    /// fill rather than all held until the commit (a 256 MiB cache made each page a fresh page
    /// fault, and the rebuild's peak RSS 170 MB higher, for no faster a write);
    /// then makes it durable (the file and its folder fsynced) and opens it for use.
    static func create(numberedFrom first: Int64, logPath: String?, fill: (Database) throws -> Void) throws -> ReadModelGeneration {
        guard let logPath else {
            let queue = try DatabaseQueue(configuration: configuration())
            try queue.writeWithoutTransaction { db in try db.inTransaction { try fill(db); return .commit } }
            return ReadModelGeneration(number: first, database: queue, lock: nil)
        }
        var number = first
        var lock = try FileLock(claiming: Self.path(number, logPath: logPath))
        while lock == nil {
            number += 1
            lock = try FileLock(claiming: Self.path(number, logPath: logPath))
        }
        let path = path(number, logPath: logPath)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration())
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: """
                    PRAGMA page_size = 8192;
                    PRAGMA journal_mode = OFF;
                    PRAGMA synchronous = OFF;
                    PRAGMA locking_mode = EXCLUSIVE;
                    PRAGMA temp_store = MEMORY;
                    PRAGMA cache_size = -16384;
                    """)
                try db.inTransaction { try fill(db); return .commit }
            }
            try queue.close()
            try FileLock.sync(path)
            try FileLock.sync(folder(of: path))
            return ReadModelGeneration(number: number, database: try pool(path), lock: lock)
        } catch {
            removeFiles(path)
            throw error
        }
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "availd.read-models"
        configuration.busyMode = .timeout(10)
        return configuration
    }

    /// Derived data, so the writer commits with `synchronous=NORMAL`: WAL never corrupts, and a
    /// power cut that loses the last batches loses their checkpoint with them, so the projector
    /// applies them again.
    private static func pool(_ path: String) throws -> DatabasePool {
        let pool = try DatabasePool(path: path, configuration: configuration())
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768")
        }
        return pool
    }

    private static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// The generation files beside `logPath`: (number, path).
    static func files(logPath: String) -> [(number: Int64, path: String)] {
        let folder = folder(of: logPath)
        let prefix = (logPath as NSString).lastPathComponent + ".read-models-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix(prefix), let number = Int64(name.dropFirst(prefix.count)), number > 0 else { return nil }
            return (number, "\(folder)/\(name)")
        }
    }

    /// Deletes the generation at `path` if no process holds it and `stillUnused()` says so
    /// once it is locked; whether it is gone.
    static func remove(_ path: String, if stillUnused: () -> Bool) -> Bool {
        guard let exclusive = FileLock(existing: path, mode: LOCK_EX | LOCK_NB) else { return false }
        defer { withExtendedLifetime(exclusive) {} }
        guard stillUnused() else { return false }
        removeFiles(path)
        return true
    }

    private static func removeFiles(_ path: String) {
        for suffix in ["-wal", "-shm", "-journal", ""] { unlink(path + suffix) }
    }
}

/// An open file holding a `flock`, released when this goes.
final class FileLock: Sendable {
    private let descriptor: Int32

    /// `flock(mode)` on the file at `path`; nil if it is not there (or no longer: deleted by
    /// the time the lock was granted), or `LOCK_NB` was asked and another holds it.
    init?(existing path: String, mode: Int32) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        guard flock(descriptor, mode) == 0, Self.isLinked(descriptor, at: path) else {
            close(descriptor)
            return nil
        }
    }

    /// Creates `path` (mode 0600) holding a shared lock on it; nil if the name is taken: the
    /// file is there already (O_EXCL), or another process deleted the new file before it was
    /// locked (a `removeUnused` that found it unheld).
    init?(claiming path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { return nil }
            throw DatabaseError(message: "cannot create the read models \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_SH) == 0 else {
            let message = "cannot lock the read models \(path): \(String(cString: strerror(errno)))"
            close(descriptor)
            throw DatabaseError(message: message)
        }
        guard Self.isLinked(descriptor, at: path) else {
            close(descriptor)
            return nil
        }
    }

    deinit { close(descriptor) }

    /// Whether `path` still names the file open as `descriptor`.
    private static func isLinked(_ descriptor: Int32, at path: String) -> Bool {
        var open = stat(), named = stat()
        guard fstat(descriptor, &open) == 0, stat(path, &named) == 0 else { return false }
        return open.st_ino == named.st_ino && open.st_dev == named.st_dev
    }

    /// fsync(2) of `path` (a file or a folder).
    static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        defer { if descriptor >= 0 { close(descriptor) } }
        guard descriptor >= 0, fsync(descriptor) == 0 else {
            throw DatabaseError(message: "fsync \(path): \(String(cString: strerror(errno)))")
        }
    }
}
