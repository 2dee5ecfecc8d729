import ArgumentParser
import AvailCore
import AvailServer
import Foundation

/// `availd calendly reconcile`: one reconciliation pass now, beside a running daemon or
/// without one.
struct CalendlyReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the log with Calendly's API now and append what webhooks missed.",
        discussion: """
            For each expert connected to Calendly (or only --expert), lists the user's scheduled events \
            (both statuses) from --since, or from the last complete pass less a day, reads the invitees of \
            any the read models do not already know whole, and appends a calendly.invitee_observed event \
            (source reconcile) for each invitee whose state the log does not say yet. A pass the daemon \
            left under way goes on from its page. Prints one line per expert, 'expert ID events E invitees I \
            appended A requests R' (and why, if it stopped), then 'reconciled N experts, appended A'; exits \
            non-zero when a pass did not finish.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var calendly: CalendlyOptions

    @Option(help: "Only this expert.")
    var expert: String?

    @Option(help: "The first start time to look at (RFC 3339), instead of the usual window.")
    var since: String?

    func run() async throws {
        guard database.path != ":memory:" else { throw ValidationError("reconcile works on a database file or PostgreSQL, not :memory:") }
        let since = try since.map { text in
            guard let time = Timestamp(rfc3339: text) else { throw ValidationError("--since \(text) is not an RFC 3339 time") }
            return time
        }
        let (access, logger) = try calendly.access(database: database)
        let summaries: [ReconcileSummary]
        do {
            var progress = ProgressLine(label: "reconcile", unit: "experts")
            summaries = try await database.withDatabase(logger: logger) { db in
                try await reconcileOnce(database: db, access: access, expertID: expert, since: since, logger: logger) { done, total in
                    progress.update(done: Int64(done), total: Int64(total))
                }
            }
        } catch {
            guard let problem = Problem(refusal: error) else { throw error }
            throw CommandFailure(description: problem.detail)
        }
        for summary in summaries {
            var line = "expert \(summary.expertID) events \(summary.events) invitees \(summary.invitees) appended \(summary.appended) requests \(summary.requests)"
            if !summary.complete { line += " stopped: \(summary.error ?? "unknown")" }
            say(line)
        }
        say("reconciled \(summaries.filter(\.complete).count) experts, appended \(summaries.reduce(0) { $0 + $1.appended })")
        if summaries.contains(where: { !$0.complete }) { throw ExitCode.failure }
    }
}
