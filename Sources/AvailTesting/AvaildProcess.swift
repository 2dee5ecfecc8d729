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
    }

    private let process: Process
    private let stdout = OutputCollector()
    private let stderr = OutputCollector()
    private let exit = OutputCollector()

    /// Starts `executable arguments…`, optionally through `bash -c` with a `prefix`
    /// (`ulimit -f 256;`), or through a `launcher` that execs it, found on PATH
    /// (`setpriv --reuid=65534 …`).
    public init(
        _ executable: String = "availd", _ arguments: [String], environment: [String: String] = [:], shellPrefix: String? = nil,
        launcher: [String] = []
    ) throws {
        let binary = Self.binaryDirectory.appendingPathComponent(executable).path
        process = Process()
        if !launcher.isEmpty {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = launcher + [binary] + arguments
        } else if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            let quoted = ([binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            process.arguments = ["-c", "\(shellPrefix) exec \(quoted.joined(separator: " "))"]
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AVAILD_") || $0.key == "AVAILD_BIN_DIR" }
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        stdout.attach(out.fileHandleForReading)
        stderr.attach(err.fileHandleForReading)
        let exit = self.exit
        process.terminationHandler = { process in exit.append("exit \(process.terminationStatus)\n") }
        try process.run()
    }

    public var processIdentifier: Int32 { process.processIdentifier }

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
        kill(process.processIdentifier, signal)
    }

    /// The exit status (or the terminating signal's number).
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let line = try await exit.waitForLine(prefix: "exit ", timeout: timeout)
        stdout.drain()
        stderr.drain()
        return Int32(line.dropFirst("exit ".count)) ?? -1
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
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
    private let handle = Mutex<FileHandle?>(nil)

    func attach(_ handle: FileHandle) {
        self.handle.withLock { $0 = handle }
        handle.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                self?.append(String(decoding: data, as: UTF8.self))
            }
        }
    }

    /// Reads what is left once the process has exited.
    func drain() {
        guard let handle = handle.withLock({ $0 }) else { return }
        handle.readabilityHandler = nil
        if let rest = try? handle.readToEnd(), !rest.isEmpty {
            append(String(decoding: rest, as: UTF8.self))
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
