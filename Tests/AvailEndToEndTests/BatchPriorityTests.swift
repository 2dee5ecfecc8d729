import AvailTesting
import Foundation
import Testing

/// `--nice` of `availd verify` and `rebuild`, with the real executable: every thread of the
/// running command at the niceness asked for, read from `/proc` while it works.
///
/// The commands run as the daemon is deployed, unprivileged (`User=availd` in
/// deploy/availd.service): run as root, the tests run them as nobody (setpriv), in a folder
/// nobody owns. As root, the threads libdispatch starts later do not keep the niceness (see the
/// last test).
@Suite(.serialized) struct BatchPriorityTests {
    /// A thread's name, state and niceness: fields 2, 3 and 19 of its `/proc/.../stat` (counted
    /// after the name, which may hold spaces and parentheses).
    struct ThreadStat: CustomStringConvertible {
        var name: Substring
        var state: Character
        var nice: Int32

        init?(contentsOf path: String) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 16, let state = fields[0].first, let nice = Int32(fields[16]) else { return nil }
            name = text[text.index(after: open)..<close]
            self.state = state
            self.nice = nice
        }

        var description: String { "\(name) \(state) nice \(nice)" }
    }

    /// Every thread of process `pid`, by thread id; empty once it has ended (a zombie's are left
    /// out, and so is a thread that ends while it is read).
    static func threads(of pid: Int32) -> [Int32: ThreadStat] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var threads: [Int32: ThreadStat] = [:]
        for id in ids.compactMap({ Int32($0) }) {
            if let stat = ThreadStat(contentsOf: "/proc/\(pid)/task/\(id)/stat"), stat.state != "Z" { threads[id] = stat }
        }
        return threads
    }

    static var isRoot: Bool { geteuid() == 0 }

    /// Runs a command unprivileged: through setpriv as nobody when the tests run as root.
    static var unprivileged: [String] { isRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : [] }

    /// The niceness this test runs at, which a child starts with; and one above it to ask for
    /// (the tests cannot show anything when they run at 17 or more).
    static func niceToAsk() throws -> (parent: Int32, asked: Int32) {
        let parent = try #require(ThreadStat(contentsOf: "/proc/thread-self/stat")).nice
        try #require(parent < 17, "the tests run at niceness \(parent): no --nice is lower than that")
        return (parent, max(7, parent + 3))
    }

    /// A log of 8,000 generated deliveries with its read models rebuilt (`verify` then takes
    /// seconds comparing them with a fold, long after it has set its priority), owned by nobody
    /// when the tests run as root.
    static func database(in folder: TemporaryDirectory) async throws -> String {
        let database = folder.path("a.sqlite")
        let generated = try await AvaildProcess.run(
            executable: "availd-sim", ["generate", "--database", database, "--deliveries", "8000"], timeout: .seconds(600))
        try #require(generated.status == 0, "\(generated.stderr)")
        let rebuilt = try await AvaildProcess.run(["rebuild", "--database", database], timeout: .seconds(600))
        try #require(rebuilt.status == 0, "\(rebuilt.stderr)")
        if isRoot {
            let nobody: [FileAttributeKey: Any] = [.ownerAccountID: 65534, .groupOwnerAccountID: 65534]
            try FileManager.default.setAttributes(nobody, ofItemAtPath: folder.url.path)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.url.path) {
                try FileManager.default.setAttributes(nobody, ofItemAtPath: folder.path(name))
            }
        }
        return database
    }

    /// Runs `availd verify OPTIONS` and returns its threads as they were once it had checked the
    /// log (it has set its priority, and is comparing the read models): stopped (SIGSTOP) while
    /// they are read, so that none comes or goes meanwhile.
    static func threadsOfVerify(_ database: String, _ options: [String], launcher: [String]) async throws -> [Int32: ThreadStat] {
        let verify = try AvaildProcess("availd", ["verify", "--database", database] + options, launcher: launcher)
        _ = try await verify.stdoutValue(after: "log ok: ", timeout: .seconds(300))
        verify.signal(SIGSTOP)
        let threads = Self.threads(of: verify.processIdentifier)
        verify.signal(SIGCONT)
        let status = try await verify.waitForExit(timeout: .seconds(600))
        let output = await verify.stdoutText() + verify.stderrText()
        #expect(status == 0, "\(output)")
        try #require(!threads.isEmpty, "verify ended before its threads could be read: give it a larger log")
        return threads
    }

    @Test func verifyRunsEveryThreadAtTheNicenessAskedForAndAtItsOwnWithZero() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try await Self.database(in: folder)
        let (parent, asked) = try Self.niceToAsk()

        let lowered = try await Self.threadsOfVerify(database, ["--nice", "\(asked)"], launcher: Self.unprivileged)
        #expect(lowered.count > 1, "\(lowered)")
        #expect(lowered.values.allSatisfy { $0.nice == asked }, "asked for \(asked): \(lowered)")

        let unchanged = try await Self.threadsOfVerify(database, ["--nice", "0"], launcher: Self.unprivileged)
        #expect(unchanged.count > 1, "\(unchanged)")
        #expect(unchanged.values.allSatisfy { $0.nice == parent }, "started at \(parent): \(unchanged)")

        if parent < 10 {
            let byDefault = try await Self.threadsOfVerify(database, [], launcher: Self.unprivileged)
            #expect(byDefault.values.allSatisfy { $0.nice == 10 }, "the default is 10: \(byDefault)")
        }
    }

    @Test func rebuildRunsEveryThreadAtTheNicenessAskedFor() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try await Self.database(in: folder)
        let (_, asked) = try Self.niceToAsk()

        // Rebuild prints nothing until it is done: its threads are read every few milliseconds
        // while it runs. It sets its priority first thing; from the first look at which every
        // thread is at `asked`, every thread is at `asked` at every look (a new one takes its
        // creator's).
        let rebuild = try AvaildProcess(
            "availd", ["rebuild", "--database", database, "--nice", "\(asked)"], launcher: Self.unprivileged)
        var lowered: [Int32: ThreadStat]?
        var looks = 0
        var most = 0
        let deadline = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < deadline {
            let threads = Self.threads(of: rebuild.processIdentifier)
            if threads.isEmpty { break }
            looks += 1
            most = max(most, threads.count)
            let allAsked = threads.values.allSatisfy { $0.nice == asked }
            if lowered != nil {
                #expect(allAsked, "after every thread was at \(asked): \(threads)")
            } else if allAsked {
                lowered = threads
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let status = try await rebuild.waitForExit(timeout: .seconds(600))
        let output = await rebuild.stderrText()
        #expect(status == 0, "\(output)")
        let seen = try #require(lowered, "in \(looks) looks, never every thread at \(asked)")
        #expect(most > 1, "rebuild ran on one thread only (\(seen))")
    }

    @Test func aNicenessOutsideZeroToNineteenIsRefused() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("a.sqlite")
        for command in ["verify", "rebuild"] {
            for option in [["--nice", "20"], ["--nice=-1"]] {
                let refused = try await AvaildProcess.run([command, "--database", database] + option)
                #expect(refused.status == 64, "\(command) \(option): \(refused.stdout)\(refused.stderr)")
                #expect(refused.stderr.contains("Error: --nice must be 0 to 19"), "\(command) \(option): \(refused.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: database), "nothing ran")
    }

    /// Run as root, `--nice` holds for the threads there are when it is applied (and those they
    /// start), not for the worker threads libdispatch starts later: on Linux it sets each one's
    /// niceness from its queue's QoS, whatever the thread was given (0 default, -2
    /// user-initiated, which GRDB's queues are, -4 user-interactive), which only a privileged
    /// process may go below its own with. Unprivileged, as deployed, the attempt fails and every
    /// thread keeps `--nice` (the tests above).
    @Test(.enabled(if: isRoot)) func asRootTheWorkersLibdispatchStartsLaterTakeTheirQoSNiceness() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try await Self.database(in: folder)
        let (_, asked) = try Self.niceToAsk()
        let threads = try await Self.threadsOfVerify(database, ["--nice", "\(asked)"], launcher: [])
        let main = threads.first { $0.value.name == "availd" }
        #expect(main?.value.nice == asked, "\(threads)")
        withKnownIssue("as root, libdispatch's worker threads started after --nice take their QoS's niceness") {
            #expect(threads.values.allSatisfy { $0.nice == asked }, "asked for \(asked): \(threads)")
        }
    }
}
