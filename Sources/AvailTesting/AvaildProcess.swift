import Foundation
import Synchronization

/// The real `availd` (or `availd-sim`) executable, run as a child process.
public final class AvaildProcess: Sendable {
    /// Where `swift build` put the executables: beside the running test bundle, or
    /// `AVAILD_BIN_DIR` when set.
    public static var binaryDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["AVAILD_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
            + (Bundle.main.executableURL.map { [$0.deletingLastPathComponent()] } ?? [])
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("availd").path) }
            ?? TestPaths.repository.appendingPathComponent(".build/debug")
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Output of a command that ran to completion.
    public struct Completed: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    private let pid: pid_t
    private let stdout = OutputCollector()
    private let stderr = OutputCollector()
    private let exit = OutputCollector()

    /// Starts `executable arguments…`, optionally through `bash -c` with a `prefix`
    /// (`ulimit -f 256;`), or through a `launcher` that execs it, found on PATH
    /// (`setpriv --reuid=65534 …`).
    ///
    /// Spawned with `posix_spawn`, not Foundation's `Process`: on Linux, Swift 6.3.1's
    /// `Process.run()` reads 256 bytes of every `/proc/self/fd` entry that `readdir` returns,
    /// past the end of glibc's buffer, and now and then the test process dies of it
    /// (swift-corelibs-foundation#5472, fixed after 6.3.1).
    public init(
        _ executable: String = "availd", _ arguments: [String], environment: [String: String] = [:], shellPrefix: String? = nil,
        launcher: [String] = []
    ) throws {
        let binary = Self.binaryDirectory.appendingPathComponent(executable).path
        let command: [String]
        if !launcher.isEmpty {
            command = ["/usr/bin/env"] + launcher + [binary] + arguments
        } else if let shellPrefix {
            let quoted = ([binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            command = ["/bin/bash", "-c", "\(shellPrefix) exec \(quoted.joined(separator: " "))"]
        } else {
            command = [binary] + arguments
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AVAILD_") || $0.key == "AVAILD_BIN_DIR" }
        env.merge(environment) { $1 }
        let environment = env.map { "\($0.key)=\($0.value)" }
        let (out, err, spawned) = try Self.spawning.withLock { _ in
            let out = try Self.pipe()
            let err = try Self.pipe()
            defer {
                close(out.write)
                close(err.write)
            }
            return (out, err, try Self.spawn(command, environment: environment, stdout: out.write, stderr: err.write))
        }
        pid = spawned
        stdout.attach(out.read)
        stderr.attach(err.read)
        // Reaps the child, on a thread of its own (waitpid blocks), and says how it ended.
        let exit = self.exit
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) == -1 && errno == EINTR {}
            // As Foundation's `terminationStatus`: the exit code, or the signal's number.
            let signal = status & 0x7f
            exit.append("exit \(signal == 0 ? (status >> 8) & 0xff : signal)\n")
        }
    }

    /// Whether the child was reaped (so its pid may be another process's now).
    private var hasExited: Bool { !exit.text.isEmpty }

    /// Held from making a child's pipes until it is spawned: another child spawned in between
    /// would inherit them before they are marked close-on-exec, and hold them open.
    static let spawning = Mutex(())

    /// A pipe whose ends are closed in every child but where `spawn` moves them.
    private static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard Glibc.pipe(&ends) == 0 else { throw Failure(description: "pipe: errno \(errno)") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which Swift's Glibc module does
    /// not declare: a child inherits no descriptor above 2 that was left without close-on-exec.
    private static let addCloseFrom: AddCloseFrom? =
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddCloseFrom.self) }
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `posix_spawn` of `command` (its first element an absolute path), standard input from
    /// /dev/null, standard output and error into the given descriptors, nothing else inherited.
    static func spawn(_ command: [String], environment: [String], stdout: Int32, stderr: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        if let addCloseFrom { _ = addCloseFrom(&actions, 3) }
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
        let argv = cStrings(command)
        let envp = cStrings(environment)
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        guard code == 0 else { throw Failure(description: "posix_spawn \(command[0]): \(String(cString: strerror(code)))") }
        return pid
    }

    public var processIdentifier: Int32 { pid }

    /// Runs a command to completion (bounded by `timeout`).
    public static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)) async throws -> Completed {
        try await run(executable: "availd", arguments, environment: environment, timeout: timeout)
    }

    /// Runs another of the package's executables (`availd-sim`) to completion.
    public static func run(
        executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)
    ) async throws -> Completed {
        let child = try AvaildProcess(executable, arguments, environment: environment)
        let status = try await child.waitForExit(timeout: timeout)
        return Completed(status: status, stdout: await child.stdoutText(), stderr: await child.stderrText())
    }

    /// Starts `availd serve` and waits for its `availd listening on http://HOST:PORT` line.
    public static func serve(_ arguments: [String], environment: [String: String] = [:], shellPrefix: String? = nil) async throws -> (AvaildProcess, port: Int) {
        let child = try AvaildProcess("availd", ["serve", "--port", "0"] + arguments, environment: environment, shellPrefix: shellPrefix)
        let line: String
        do {
            line = try await child.stdout.waitForLine(prefix: "availd listening on http://", timeout: .seconds(60))
        } catch {
            // What the daemon logged says why it never listened.
            throw Failure(description: "\(error)\nstderr so far:\n\(String(await child.stderrText().suffix(6000)))")
        }
        guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw Failure(description: "cannot read a port from '\(line)'")
        }
        return (child, port)
    }

    /// The first stdout line starting with `prefix`, without the prefix.
    public func stdoutValue(after prefix: String, timeout: Duration = .seconds(10)) async throws -> String {
        String(try await stdout.waitForLine(prefix: prefix, timeout: timeout).dropFirst(prefix.count))
    }

    public func stdoutText() async -> String { stdout.text }
    public func stderrText() async -> String { stderr.text }

    public func signal(_ signal: Int32) {
        if !hasExited { kill(pid, signal) }
    }

    /// The exit status (or the terminating signal's number).
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let line = try await exit.waitForLine(prefix: "exit ", timeout: timeout)
        await stdout.drain()
        await stderr.drain()
        return Int32(line.dropFirst("exit ".count)) ?? -1
    }

    deinit {
        if !hasExited { kill(pid, SIGKILL) }
    }
}

/// Collects a child's output and lets tests await a line.
final class OutputCollector: Sendable {
    private struct Waiter {
        var prefix: String
        var continuation: CheckedContinuation<String, any Error>
        var id: Int
    }

    private struct State {
        var text = ""
        var waiters: [Waiter] = []
        var nextID = 0
    }

    private let state = Mutex(State())
    /// Whether the pipe reached its end, and who waits for that.
    private let end = Mutex<(reached: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Reads `descriptor` on a thread of its own (blocking reads) until its end, then closes
    /// it. Not Foundation's `readabilityHandler`: its dispatch source, torn down while the
    /// descriptor was being closed, now and then crashed the test process in libdispatch.
    func attach(_ descriptor: Int32) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    append(String(decoding: buffer[0..<count], as: UTF8.self))
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(descriptor)
            let waiters = end.withLock { end in
                end.reached = true
                defer { end.waiters = [] }
                return end.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Returns once everything the process wrote has been read (its end of the pipe closed).
    func drain() async {
        await withCheckedContinuation { continuation in
            let reached = end.withLock { end in
                if !end.reached { end.waiters.append(continuation) }
                return end.reached
            }
            if reached { continuation.resume() }
        }
    }

    var text: String { state.withLock { $0.text } }

    func append(_ chunk: String) {
        let ready: [(CheckedContinuation<String, any Error>, String)] = state.withLock { state in
            state.text += chunk
            var ready: [(CheckedContinuation<String, any Error>, String)] = []
            state.waiters.removeAll { waiter in
                guard let line = Self.line(in: state.text, prefix: waiter.prefix) else { return false }
                ready.append((waiter.continuation, line))
                return true
            }
            return ready
        }
        for (continuation, line) in ready { continuation.resume(returning: line) }
    }

    func waitForLine(prefix: String, timeout: Duration) async throws -> String {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    let found: String? = self.state.withLock { state in
                        if let line = Self.line(in: state.text, prefix: prefix) { return line }
                        state.waiters.append(Waiter(prefix: prefix, continuation: continuation, id: id))
                        return nil
                    }
                    if let found { continuation.resume(returning: found) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                let waiter = self.state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: AvaildProcess.Failure(
                    description: "no line starting '\(prefix)' within \(timeout); output so far:\n\(self.text)"))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            if let first { return first }
            return try await group.next()!!
        }
    }

    private static func line(in text: String, prefix: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
    }
}
