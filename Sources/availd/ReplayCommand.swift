import ArgumentParser
import AvailClient
import AvailCore
import AvailServer
import AvailStore
import Foundation
import Logging

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Append recorded deliveries to the log, or sign and POST them to a running daemon.",
        discussion: """
            PATH is a .json file (one body), a .jsonl file (one body per line) or a folder (its \
            *.json and *.jsonl files, sorted by name). Prints 'appended N, duplicates D, rejected R' \
            and exits non-zero when R > 0.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "Fixture files or folders.")
    var paths: [String]

    @Option(help: "POST to BASE_URL/webhooks/calendly of a running daemon instead of writing the database.")
    var to: String?

    @Option(name: .customLong("signing-key"), help: "Key to sign with when using --to [AVAILD_SIGNING_KEYS: the first one].")
    var signingKey: String?

    func run() async throws {
        let logger = try database.logger()
        let bodies = try FixtureFiles.bodies(at: paths)
        var tally = Tally()
        if let to {
            guard let key = try signingKey ?? Environment.signingKeys().first else {
                throw ValidationError("--to needs --signing-key (or AVAILD_SIGNING_KEYS)")
            }
            tally = try await post(bodies, to: to, key: key)
        } else {
            tally = try await database.withDatabase(logger: logger) { try await appendOffline(bodies, to: $0) }
        }
        logger.debug("replay finished", metadata: ["replay.bodies": "\(bodies.count)"])
        say("appended \(tally.appended), duplicates \(tally.duplicates), rejected \(tally.rejected)")
        if tally.rejected > 0 { throw ExitCode.failure }
    }

    struct Tally {
        var appended = 0
        var duplicates = 0
        var rejected = 0
    }

    /// The HTTP path's validation, dedupe and append, without HTTP: rejected bodies go to the
    /// dead letters just as signed-but-unusable deliveries do.
    private func appendOffline(_ bodies: [FixtureFiles.Body], to database: DaemonDatabase) async throws -> Tally {
        let stores = try database.storesWithoutSecrets
        let log = stores.log
        let deadLetters = stores.deadLetters
        var tally = Tally()
        var batch: [NewEvent] = []
        var progress = ProgressLine(label: "replay", unit: "bodies")
        func flush() async throws {
            for outcome in try await log.append(batch) {
                if outcome.isDuplicate { tally.duplicates += 1 } else { tally.appended += 1 }
            }
            batch.removeAll(keepingCapacity: true)
        }
        for body in bodies {
            let receivedAt = Timestamp.now()
            do {
                batch.append(NewEvent(delivery: try Delivery(body: body.bytes), signature: nil, receivedAt: receivedAt))
            } catch {
                tally.rejected += 1
                warn("\(body.origin): \(PayloadRejection.code): \(error.reason)")
                try await deadLetters.add(
                    receivedAt: receivedAt, code: PayloadRejection.code, reason: error.reason, body: body.bytes, signature: nil)
            }
            if batch.count == 500 { try await flush() }
            progress.update(done: Int64(tally.appended + tally.duplicates + tally.rejected + batch.count), total: Int64(bodies.count))
        }
        try await flush()
        // Project what was appended, so `digest` agrees with `rebuild` without a daemon (beside
        // daemons on PostgreSQL, each batch's checkpoint check settles who folded what).
        try await database.readModels.catchUp(with: log)
        return tally
    }

    /// Signs each body afresh, as Calendly would, and POSTs it; one at a time, in order.
    private func post(_ bodies: [FixtureFiles.Body], to baseURL: String, key: String) async throws -> Tally {
        let sender = WebhookSender(baseURL: baseURL, signingKey: key)
        var tally = Tally()
        var progress = ProgressLine(label: "replay", unit: "bodies")
        for body in bodies {
            progress.update(done: Int64(tally.appended + tally.duplicates + tally.rejected), total: Int64(bodies.count))
            let answer = try await sender.send(body.bytes)
            switch answer.status {
            case 202: tally.appended += 1
            case 200: tally.duplicates += 1
            default:
                tally.rejected += 1
                warn("\(body.origin): HTTP \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
            }
        }
        return tally
    }
}

func warn(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
