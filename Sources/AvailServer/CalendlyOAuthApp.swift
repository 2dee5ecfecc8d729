/// A Calendly OAuth app's credentials (from Calendly's developer console).
public struct CalendlyOAuthApp: Sendable {
    public var clientID: String
    public var clientSecret: String

    public init(clientID: String, clientSecret: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }
}
