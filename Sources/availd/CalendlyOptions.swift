import ArgumentParser
import AvailServer
import Logging

/// The options that say how availd reaches Calendly, shared by `serve` and `availd calendly …`.
struct CalendlyOptions: ParsableArguments {
    @Option(name: .customLong("calendly-api"), help: "Calendly API base URL [AVAILD_CALENDLY_API, default https://api.calendly.com].")
    var api: String?

    @Option(name: .customLong("calendly-token"), help: "Calendly API token [AVAILD_CALENDLY_TOKEN, or the credential calendly-token].")
    var token: String?

    @Option(name: .customLong("calendly-client-id"), help: "The Calendly OAuth app's client id; without one experts cannot connect their own accounts [AVAILD_CALENDLY_CLIENT_ID].")
    var clientID: String?

    @Option(name: .customLong("calendly-client-secret"), help: "The Calendly OAuth app's client secret [AVAILD_CALENDLY_CLIENT_SECRET, or the credential calendly-client-secret].")
    var clientSecret: String?

    @Option(name: .customLong("calendly-auth"), help: "Calendly's OAuth server [AVAILD_CALENDLY_AUTH, default https://auth.calendly.com].")
    var auth: String?

    @Option(name: .customLong("secret-key"), help: "Seals Calendly tokens at rest, 32 characters or more [AVAILD_SECRET_KEY, or the credential secret-key; default: created once beside the database].")
    var secretKey: String?

    var apiURL: String { api ?? Environment.value("AVAILD_CALENDLY_API") ?? "https://api.calendly.com" }

    /// The organization token, `--calendly-token`.
    var organizationToken: String? {
        get throws { try token ?? Environment.secret("AVAILD_CALENDLY_TOKEN", credential: "calendly-token") }
    }

    var authURL: String { auth ?? Environment.value("AVAILD_CALENDLY_AUTH") ?? "https://auth.calendly.com" }

    /// The secret key given as an option; nil: the one beside the database.
    var givenSecretKey: String? {
        get throws { try secretKey ?? Environment.secret("AVAILD_SECRET_KEY", credential: "secret-key") }
    }

    var givenClientSecret: String? {
        get throws {
            try clientSecret ?? Environment.secret("AVAILD_CALENDLY_CLIENT_SECRET", credential: "calendly-client-secret")
        }
    }

    /// How a command reaches Calendly with these options, the secret key the one given or the
    /// one beside `database`; and the process's logger, which keeps every secret of them out.
    func access(database: DatabaseOptions) throws -> (CalendlyAccess, Logger) {
        let secretKey = try givenSecretKey ?? database.existingSecretFile("secret-key")
        let app = try oauthApp()
        let logger = try database.logger(secrets: [try organizationToken, secretKey, app?.clientSecret])
        let access = CalendlyAccess(
            api: apiURL, organizationToken: try organizationToken, oauthApp: app, authURL: authURL, secretKey: secretKey)
        return (access, logger)
    }

    /// The OAuth app; nil when neither its id nor its secret is given.
    func oauthApp() throws -> CalendlyOAuthApp? {
        switch (clientID ?? Environment.value("AVAILD_CALENDLY_CLIENT_ID"), try givenClientSecret) {
        case (let id?, let secret?): return CalendlyOAuthApp(clientID: id, clientSecret: secret)
        case (nil, nil): return nil
        default: throw ValidationError("--calendly-client-id and --calendly-client-secret go together")
        }
    }
}
