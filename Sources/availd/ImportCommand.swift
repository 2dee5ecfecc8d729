import ArgumentParser
import AvailCore
import AvailServer
import AvailStore
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Copy a log that availd export wrote into --database, hash for hash, and verify the copy.",
        discussion: """
            Reads JSON Lines from FILE, or from standard input: `availd export --database A | availd \
            import --database B` moves a log between SQLite and PostgreSQL. Into an empty log, or \
            one that is a copy in progress of the same log (what an interrupted import left: its \
            last event must be the line's at that position); anything else is refused. Each batch \
            of 1,000 events is checked (next position, stream version, new dedupe key, the hash \
            chain) and written in one durable transaction, or not at all. Then the whole copy is \
            verified; an SQLite database's read models are brought up to date. Prints `imported N, \
            already there S`, `log ok: T events, head H` and, on SQLite, `position P digest D`.
            """)

    @Argument(help: "A file availd export wrote; standard input when absent or -.")
    var file: String?

    @OptionGroup var database: DatabaseOptions

    static let batchSize = 1000

    func run() async throws {
        let file = self.file
        try await database.withLog { log, sqlite in
            let reader = try LineReader(path: file)
            let copied = try await Self.copy(from: reader, into: log)
            say("imported \(copied.imported), already there \(copied.alreadyThere)")
            let report = try await log.verify(maximumProblems: 20)
            for problem in report.problems { warn("import: verify: \(problem)") }
            say("log \(report.isIntact ? "ok" : "BROKEN"): \(report.eventCount) events, head \(report.headHash)")
            guard report.isIntact, report.eventCount == copied.last.position, report.headHash == Hex.encode(copied.last.hash) else {
                warn("import: the copy does not verify as the log that was read (\(copied.last.position) events, head \(Hex.encode(copied.last.hash)))")
                throw ExitCode.failure
            }
            if let sqlite {
                _ = try await sqlite.readModels.catchUp(with: sqlite.log)
                let (position, digest) = try await sqlite.readModels.digest()
                say("position \(position) digest \(digest)")
            }
        }
    }

    struct Copied: Sendable {
        var imported = 0
        var alreadyThere = 0
        /// The last line's position and hash (the log's head before the import when it read none).
        var last: (position: Int64, hash: [UInt8])
    }

    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    static func copy(from reader: LineReader, into log: any EventStore) async throws -> Copied {
        let head = try await log.head()
        var copied = Copied(last: head)
        var batch: [LogEvent] = []
        var progress = ProgressLine(label: "import", unit: "bytes")
        var lineNumber = 0
        var lastLine: Int64 = 0
        // The input on its own, from its first line: positions, versions, the hash chain (the
        // lines already in the database are checked too, though not written).
        var input = LogVerifier(maximumProblems: 1)
        let decoder = JSONDecoder()

        func flush() async throws {
            guard !batch.isEmpty else { return }
            do {
                try await log.appendCopy(batch)
            } catch let refusal as LogCopyRefusal {
                throw Refusal(description: """
                    \(refusal); nothing of its batch was written (the database's log ends at \
                    position \(batch[0].position - 1), each event there verified)
                    """)
            }
            copied.imported += batch.count
            batch.removeAll(keepingCapacity: true)
        }

        while let line = try reader.next() {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let event: LogEvent
            do {
                event = try decoder.decode(EventItem.self, from: line).logEvent()
            } catch {
                try await flush()
                throw Refusal(description: "line \(lineNumber) is not a line of availd export: \(error)")
            }
            input.check(event)
            if input.isFull {
                try await flush()
                throw Refusal(description: "line \(lineNumber): \(input.verification.problems[0]); nothing from this line on was written")
            }
            lastLine = event.position
            if event.position <= head.position {
                // A copy in progress of this same log: its head must be this line.
                if event.position == head.position, event.hash != head.hash {
                    throw Refusal(description: """
                        the database's log differs from this one at position \(head.position): it is \
                        not an earlier import of it; import into an empty database
                        """)
                }
                copied.alreadyThere += 1
                continue
            }
            batch.append(event)
            copied.last = (event.position, event.hash)
            if batch.count == batchSize {
                try await flush()
                progress.update(done: reader.bytesRead, total: reader.size, note: "\(copied.imported) events imported")
            }
        }
        try await flush()
        if lastLine < head.position {
            throw Refusal(description: """
                the database's log (\(head.position) events) is longer than this one \
                (\(lastLine) events); import into an empty database
                """)
        }
        return copied
    }
}
