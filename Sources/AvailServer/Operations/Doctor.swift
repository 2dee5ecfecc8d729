import AvailClient
import AvailCore
import AvailStore
import Foundation
import Logging

/// `availd doctor`: what an operator checks before and after a start, each as a finding with
/// what to do about it. The files beside an SQLite database (their modes and owner), the
/// database (opens, takes writes, how far the read models are behind the log), Calendly (the
/// organization token and every connected expert's token, asked with `GET /users/me`), and
/// the webhook subscriptions in the state Calendly reports them now.
public struct Doctor: Sendable {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public enum Level: String, Sendable {
            case ok
            case warn
            case fail
        }

        public var level: Level
        public var subject: String
        public var message: String
        /// What to do; nil when there is nothing to.
        public var fix: String?

        public init(_ level: Level, _ subject: String, _ message: String, fix: String? = nil) {
            self.level = level
            self.subject = subject
            self.message = message
            self.fix = fix
        }

        /// `ok    subject  message`, and the fix on the next line.
        public var description: String {
            let head = "\(level.rawValue.uppercased().padding(toLength: 6, withPad: " ", startingAt: 0))\(subject): \(message)"
            return fix.map { head + "\n      fix: \($0)" } ?? head
        }
    }

    /// The subscriptions' report, which holds what every check needs.
    private let report: SubscriptionReport
    private var database: DaemonDatabase { report.database }
    private var access: CalendlyAccess { report.access }

    public init(database: DaemonDatabase, access: CalendlyAccess, logger: Logger) {
        self.report = SubscriptionReport(database: database, access: access, logger: logger)
    }

    /// Every check that needs the database open, in order.
    public func check() async -> [Finding] {
        var findings = await databaseFindings()
        findings += await calendlyFindings()
        findings += await subscriptionFindings()
        return findings
    }

    // MARK: Files

    /// The SQLite database file, its folder, and the secrets `serve` keeps beside it: only their
    /// owner may read them, and that owner is who runs availd. Nothing is created.
    public static func files(databasePath path: String) -> [Finding] {
        guard FileManager.default.fileExists(atPath: path) else {
            return [Finding(.fail, "database", "there is no database at \(path)",
                            fix: "start `availd serve --database \(path)` once (it creates it), or pass the --database it uses")]
        }
        var findings: [Finding] = []
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if let mode = mode(of: folder), mode & 0o022 != 0 {
            findings.append(Finding(.fail, "database folder", "\(folder) is writable by others (mode \(octal(mode)))",
                                    fix: "chmod 700 \(folder)"))
        }
        findings += secretFile(path, label: "database")
        for (suffix, what) in [("signing-key", "signing key"), ("admin-token", "admin token"), ("secret-key", "secret key")] {
            let file = "\(path).\(suffix)"
            if FileManager.default.fileExists(atPath: file) {
                findings += secretFile(file, label: what)
            } else {
                findings.append(Finding(.ok, what, "no \(file): given as an option or variable, or `serve` creates it on its next start"))
            }
        }
        return findings
    }

    /// A file only its owner may read, owned by this user.
    private static func secretFile(_ path: String, label: String) -> [Finding] {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return [Finding(.fail, label, "\(path) cannot be read: \(String(cString: strerror(errno)))")]
        }
        let mode = status.st_mode & 0o777
        var findings: [Finding] = []
        if mode & 0o077 != 0 {
            findings.append(Finding(.fail, label, "\(path) is readable by others (mode \(octal(mode)))", fix: "chmod 600 \(path)"))
        }
        if status.st_uid != geteuid() {
            findings.append(Finding(
                .warn, label, "\(path) belongs to uid \(status.st_uid), not to uid \(geteuid()) that runs this check",
                fix: "run availd as the file's owner, or chown it to the user that runs availd"))
        }
        if findings.isEmpty { findings.append(Finding(.ok, label, "\(path), mode \(octal(mode)), yours")) }
        return findings
    }

    private static func mode(of path: String) -> mode_t? {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o777 : nil
    }

    private static func octal(_ mode: mode_t) -> String {
        "0" + String(mode, radix: 8)
    }

    // MARK: The database

    private func databaseFindings() async -> [Finding] {
        var findings: [Finding] = []
        do {
            try await database.checkWritable()
            findings.append(Finding(.ok, "database", "opens and takes writes"))
        } catch {
            findings.append(Finding(
                .fail, "database", "does not take writes: \(error)",
                fix: "check the disk's free space and the file's permissions, or that no other process holds it (PostgreSQL: not a standby)"))
        }
        do {
            let log = try database.storesWithoutSecrets.log
            let last = try await log.lastPosition()
            let projected = try await database.readModels.checkpoint()
            let behind = last - projected
            findings.append(Finding(
                behind == 0 ? .ok : .warn, "read models",
                "the log holds \(last) events; the read models include \(projected)"
                    + (behind == 0 ? "" : " (\(behind) behind: a running daemon catches up; none running, the next start does)")))
        } catch {
            findings.append(Finding(.fail, "log", "cannot be read: \(error)", fix: "run `availd verify` to find where"))
        }
        return findings
    }

    // MARK: Calendly

    private func calendlyFindings() async -> [Finding] {
        var findings: [Finding] = []
        if let token = access.organizationToken {
            findings.append(await ask("organization token", token: token,
                                      refused: "make a new personal access token in Calendly and pass it as --calendly-token"))
        }
        if access.oauthApp == nil {
            findings.append(Finding(
                access.organizationToken == nil ? .warn : .ok, "oauth app",
                "no --calendly-client-id: experts cannot connect their own Calendly accounts",
                fix: access.organizationToken == nil ? "pass the Calendly OAuth app's --calendly-client-id and --calendly-client-secret" : nil))
        }
        let experts: [ExpertProfile]
        do {
            experts = try await database.readModels.experts().values.filter { $0.calendlyAccount != nil }.sorted { $0.id < $1.id }
        } catch {
            return findings + [Finding(.fail, "experts", "cannot be read: \(error)")]
        }
        guard !experts.isEmpty else {
            return findings + [Finding(.ok, "experts", "none has connected a Calendly account")]
        }
        guard let secretKey = access.secretKey, let sealer = try? TokenSealer(secretKey: secretKey) else {
            return findings + [Finding(
                .fail, "experts", "\(experts.count) connected Calendly accounts, and no secret key to open their tokens with",
                fix: "pass the --secret-key the daemon uses (or run this beside its database, where it keeps it)")]
        }
        let credentials = database.stores(sealer: sealer).calendlyCredentials
        for expert in experts {
            findings.append(await connection(of: expert, credentials: credentials))
        }
        return findings
    }

    private func connection(of expert: ExpertProfile, credentials: any CalendlyCredentialStore) async -> Finding {
        let subject = "expert \(expert.id)"
        let reconnect = "the expert connects their Calendly account again from their settings page"
        if expert.calendlyAccount?.status == .needsReconnect {
            return Finding(.warn, subject, "Calendly refused this connection", fix: reconnect)
        }
        let stored: StoredCalendlyCredentials?
        do {
            stored = try await credentials.load(expertID: expert.id)
        } catch {
            return Finding(.fail, subject, "the stored tokens cannot be opened with this secret key (\(error))",
                           fix: "pass the --secret-key they were sealed with; else \(reconnect)")
        }
        guard let stored, !stored.needsReconnect else {
            return Finding(.warn, subject, "no usable stored tokens", fix: reconnect)
        }
        guard stored.tokens.expiresAt.microseconds > Timestamp.now().microseconds else {
            return Finding(
                access.oauthApp == nil ? .fail : .ok, subject,
                "the access token expired at \(stored.tokens.expiresAt); the daemon refreshes it when it is next used",
                fix: access.oauthApp == nil ? "configure the OAuth app (--calendly-client-id) so that it can be refreshed" : nil)
        }
        return await ask(subject, token: stored.tokens.accessToken, refused: reconnect)
    }

    /// `GET /users/me` with `token`.
    private func ask(_ subject: String, token: String, refused fix: String) async -> Finding {
        var client = CalendlyClient(baseURL: access.api, token: token)
        client.attempts = 1
        client.timeout = .seconds(5)
        do {
            let user = try await client.me()
            return Finding(.ok, subject, "Calendly answers at \(access.api) for \(user.name) (\(user.uri))")
        } catch .unauthorized(let why) {
            return Finding(.fail, subject, "Calendly refused the token: \(why)", fix: fix)
        } catch .unavailable(let why) {
            return Finding(.fail, subject, "Calendly cannot be reached at \(access.api): \(why)",
                           fix: "check --calendly-api and this host's outbound network (DNS, firewall, proxy)")
        } catch {
            return Finding(.fail, subject, "\(error)")
        }
    }

    // MARK: Subscriptions

    private func subscriptionFindings() async -> [Finding] {
        let rows: [SubscriptionReport.Row]
        do {
            rows = try await report.rows()
        } catch {
            return [Finding(.fail, "subscriptions", "cannot be listed: \(error)")]
        }
        guard !rows.isEmpty else { return [Finding(.ok, "subscriptions", "none: no connected account, no organization subscription")] }
        return rows.map { row in
            let subject = "subscription of \(row.expert.map { "expert \($0)" } ?? "the organization")"
            switch row.state {
            case "active":
                return Finding(.ok, subject, "active, \(row.callbackURL ?? "?")")
            case "unknown":
                return Finding(.warn, subject, "unknown: \(row.unknownReason ?? "?")"
                                   + (row.lastKnownState.map { "; last known \($0)" } ?? ""))
            case "none":
                return Finding(.warn, subject, "the connected account has no webhook subscription: nothing it books reaches availd",
                               fix: "start the daemon with --public-url (it subscribes on connect and on its checks), or the expert connects again")
            default:
                return Finding(.fail, subject, "\(row.state) at Calendly: its deliveries do not reach availd",
                               fix: row.expert == nil
                                   ? "run `availd calendly subscribe` again"
                                   : "the daemon's subscription check re-creates it; or the expert connects again")
            }
        }
    }
}
