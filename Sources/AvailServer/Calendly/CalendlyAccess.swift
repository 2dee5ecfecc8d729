import AvailClient
import AvailCore
import AvailStore
import Logging

/// How a command outside the daemon (`availd calendly …`) reaches Calendly: the options of
/// `serve` that name Calendly, as the command line gave them.
public struct CalendlyAccess: Sendable {
    public var api: String
    /// `--calendly-token`.
    public var organizationToken: String?
    /// Refreshes an expert's expired access token; without it only tokens still valid serve.
    public var oauthApp: CalendlyOAuthApp?
    public var authURL: String
    /// Opens the experts' stored tokens; nil when there is none (the file beside the database
    /// was never created), so no expert's token can be used.
    public var secretKey: String?
    public var tokenRefreshMargin: Duration = .seconds(300)

    public init(api: String, organizationToken: String?, oauthApp: CalendlyOAuthApp?, authURL: String, secretKey: String?) {
        self.api = api
        self.organizationToken = organizationToken
        self.oauthApp = oauthApp
        self.authURL = authURL
        self.secretKey = secretKey
    }

    /// Runs `body` with the experts' connections on `database`, as the daemon has them (a
    /// refresh holds the same lock across processes as the daemons' do); nil, and why, when the
    /// stored tokens cannot be opened.
    ///
    /// A refresh stores the rotated pair like the daemon's does (compare-and-swap, so the two
    /// never lose a connection between them), and a refused one appends
    /// `expert.calendly_reconnect_needed` to the log through a writer that runs only for
    /// `body`. This process projects nothing: the daemon's projector picks the event up, so
    /// nothing here waits for the read models.
    func withConnections<T: Sendable>(
        database: DaemonDatabase, logger: Logger, _ body: (Result<CalendlyConnections, Unavailable>) async throws -> T
    ) async throws -> T {
        let sealer: TokenSealer
        do {
            guard let secretKey else {
                return try await body(.failure(Unavailable(reason: "no secret key (--secret-key) to open the experts' stored tokens with")))
            }
            sealer = try TokenSealer(secretKey: secretKey)
        } catch {
            return try await body(.failure(Unavailable(reason: "the secret key cannot open the experts' tokens: \(error)")))
        }
        let stores = database.stores(sealer: sealer)
        let writer = LogWriter(log: stores.log, logger: logger)
        let progress = ProjectionProgress()
        progress.publish(.max)
        let connections = CalendlyConnections(
            apiBase: api, organizationToken: organizationToken, app: oauthApp, authURL: authURL, publicURL: PublicURL(""),
            credentials: stores.calendlyCredentials,
            commands: Commands(writer: writer, progress: progress, waitTimeout: .zero), refreshMargin: tokenRefreshMargin,
            logger: logger, sharedLock: database.sharedLock)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            defer { group.cancelAll() }
            return try await body(.success(connections))
        }
    }

    /// Why no expert's token can be used.
    struct Unavailable: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }
}
