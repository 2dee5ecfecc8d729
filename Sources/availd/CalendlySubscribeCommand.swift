import ArgumentParser
import AvailServer
import AvailStore
import Foundation

/// `availd calendly subscribe`: the organization token's webhook subscription, created once
/// (the README, "Staying in sync with Calendly"), recorded so the daemon watches it.
struct CalendlySubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Subscribe availd to the organization's invitee and no-show events, with the organization token.",
        discussion: """
            Creates the webhook subscription with --calendly-token (an owner's or admin's personal access token) \
            for invitee.created, invitee.canceled, invitee_no_show.created and invitee_no_show.deleted, signed with \
            --signing-key, else (on SQLite) with the key in <database>.signing-key that serve accepts by default \
            (created if missing; never printed); on PostgreSQL --signing-key is required. Calendly's 409 "Already Exists" for the URL adopts the one it has, which keeps \
            the signing key it was created with. Prints 'subscription created|adopted URI STATE SCOPE URL', its \
            events, and how serve gets the key. The daemon checks the subscription every \
            --subscription-check-interval and replaces it when Calendly disables it.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var calendly: CalendlyOptions

    @Option(help: "Where Calendly delivers: the daemon's /webhooks/calendly as Calendly reaches it [default: AVAILD_PUBLIC_URL/webhooks/calendly].")
    var url: String?

    @Option(help: "organization: every event type of the token's organization; user: the token's own user's.")
    var scope = "organization"

    @Option(name: .customLong("signing-key"), help: "The key Calendly signs the deliveries with [AVAILD_SIGNING_KEYS: the first one; default: the <database>.signing-key file serve reads].")
    var signingKey: String?

    func validate() throws {
        guard OrganizationSubscription.Scope(rawValue: scope) != nil else {
            throw ValidationError("--scope is organization or user, not \(scope)")
        }
        guard try calendly.organizationToken != nil else {
            throw ValidationError(
                "availd calendly subscribe needs the organization token: --calendly-token (or AVAILD_CALENDLY_TOKEN), a personal access token of an owner or admin")
        }
        guard let url = callbackURL else {
            throw ValidationError("--url is required (or AVAILD_PUBLIC_URL, whose /webhooks/calendly is then used)")
        }
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
            !(components.host ?? "").isEmpty
        else { throw ValidationError("--url \(url) is not an http(s) URL") }
    }

    var callbackURL: String? {
        url ?? Environment.value("AVAILD_PUBLIC_URL").map { $0 + "/webhooks/calendly" }
    }

    var givenSigningKey: String? {
        get throws { try signingKey ?? Environment.signingKeys().first }
    }

    func run() async throws {
        guard let token = try calendly.organizationToken, let url = callbackURL,
            let scope = OrganizationSubscription.Scope(rawValue: scope)
        else { throw ValidationError("see --help") }
        let path = try database.preparedPath()
        let given = try givenSigningKey.flatMap { $0.isEmpty ? nil : $0 }
        let keyFile = SecretFile(database: path, suffix: "signing-key")
        let key: String
        if let given {
            key = given
        } else if path == ":memory:" {
            throw ValidationError("with --database :memory: nothing keeps a signing key for serve: give --signing-key")
        } else if database.isPostgres {
            throw ValidationError(
                "on PostgreSQL nothing keeps a signing key beside the database: give --signing-key (or AVAILD_SIGNING_KEYS), the key every serve is given")
        } else {
            key = try keyFile.loadOrCreate().secret
        }
        let logger = try database.logger(secrets: [token, key])
        if !Self.isWebhookPath(url) {
            warn("availd: warning: \(url) is not availd's /webhooks/calendly path; make sure it reaches it")
        }
        let outcome = try await database.withDatabase(logger: logger) { db in
            let records = try db.storesWithoutSecrets.subscriptions
            do {
                return try await OrganizationSubscriptions(api: calendly.apiURL, token: token, records: records, logger: logger)
                    .subscribe(url: url, scope: scope, signingKey: key)
            } catch {
                throw CommandFailure(description: "the subscription could not be made: \(error)")
            }
        }
        let subscription = outcome.subscription
        say("subscription \(outcome.adopted ? "adopted" : "created") \(subscription.uri) \(outcome.state) \(subscription.scope.rawValue) \(subscription.callbackURL)")
        say("events \(subscription.events.joined(separator: " "))")
        if outcome.adopted {
            say("signing key: the one it was created with, which availd cannot read back; serve must be given it")
            warn("availd: warning: Calendly already had a subscription to \(url); it was adopted, and Calendly signs its deliveries with whatever key it was created with, not necessarily this one")
        } else if given != nil {
            say("signing key: as given; pass it to serve with --signing-key (or AVAILD_SIGNING_KEYS)")
        } else {
            say("signing key: kept in \(keyFile.path), which serve already reads when given no --signing-key (nor AVAILD_SIGNING_KEYS)")
        }
    }

    /// Whether `url`'s path is the one availd serves: `/webhooks/calendly` or a suffix of it.
    static func isWebhookPath(_ url: String) -> Bool {
        let segments = (URLComponents(string: url)?.path ?? "").split(separator: "/")
        let tail = Array(segments.suffix(3))
        return segments.suffix(2) == ["webhooks", "calendly"] || (tail.count == 3 && tail[0] == "webhooks" && tail[1] == "calendly")
    }
}
