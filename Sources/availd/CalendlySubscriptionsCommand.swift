import ArgumentParser
import AvailCore
import AvailServer
import AvailStore
import Foundation

/// `availd calendly subscriptions`: every webhook subscription availd knows, with the state
/// Calendly reports for it now.
struct CalendlySubscriptionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscriptions",
        abstract: "List every webhook subscription availd knows, in the state Calendly reports now.",
        discussion: """
            Each connected account's (asked with the expert's own token: it needs the secret key, and the OAuth \
            app's options to refresh an expired token) and the organization token's (asked with --calendly-token). \
            What cannot be asked is 'unknown (why)', with the last state availd knew. Columns: expert (or \
            organization), scope, state, events, callback url, last check (what the daemon's last check found, and when).
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var calendly: CalendlyOptions

    @Flag(help: "One JSON object, {\"subscriptions\": [...]}, instead of the table.")
    var json = false

    func run() async throws {
        // The key serve keeps beside an SQLite database; a listing never creates one.
        let (access, logger) = try calendly.access(database: database)
        let rows = try await database.withDatabase(logger: logger) { db in
            try await SubscriptionReport(database: db, access: access, logger: logger).rows()
        }
        if json {
            say(try Self.json(rows))
        } else {
            for line in Self.table(rows) { say(line) }
        }
    }

    static func table(_ rows: [SubscriptionReport.Row]) -> [String] {
        let header = ["EXPERT", "SCOPE", "STATE", "EVENTS", "CALLBACK URL", "LAST CHECK"]
        let cells = rows.map { row -> [String] in
            var state = row.state
            if let why = row.unknownReason {
                state = "unknown (\(why)\(row.lastKnownState.map { "; last known \($0)" } ?? ""))"
            }
            return [
                row.expert ?? "organization", row.scope, state, row.events?.joined(separator: ",") ?? "-", row.callbackURL ?? "-",
                row.lastCheck.map { "\($0.state) at \($0.checkedAt)" } ?? "never",
            ]
        }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        return ([header] + cells).map { line in
            line.enumerated().map { column, cell in
                column == line.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    static func json(_ rows: [SubscriptionReport.Row]) throws -> String {
        let items: [[String: Any]] = rows.map { row in
            [
                "expert": row.expert ?? NSNull(), "scope": row.scope, "uri": row.uri ?? NSNull(), "state": row.state,
                "unknown_reason": row.unknownReason ?? NSNull(), "last_known_state": row.lastKnownState ?? NSNull(),
                "events": row.events ?? NSNull(), "callback_url": row.callbackURL ?? NSNull(),
                "last_check": row.lastCheck.map { ["state": $0.state, "checked_at": "\($0.checkedAt)"] } ?? NSNull(),
            ]
        }
        let data = try JSONSerialization.data(withJSONObject: ["subscriptions": items], options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
