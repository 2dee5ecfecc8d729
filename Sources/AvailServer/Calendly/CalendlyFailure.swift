import AvailCore

/// Why availd could not get an answer from Calendly for an expert; `Problem+Refusals.swift`
/// says which problem each is.
enum CalendlyFailure: Error {
    /// Calendly failed, timed out, or answered what availd cannot use; `what` says which.
    case unavailable(String)
    /// Neither an organization token (`--calendly-token`) nor the expert's own account.
    case noToken
    /// The expert has connected no account (nor is there an organization token) to ask `what`.
    case notConnected(expert: String, what: String)
    /// Calendly refused the expert's connection, or it cannot be used any more: the expert
    /// must connect again. `why` says which.
    case reconnectNeeded(expert: String, why: ReconnectReason)

    enum ReconnectReason: Equatable {
        /// Calendly answered `invalid_grant`, or the stored connection is another account's.
        case refused
        /// No OAuth app is configured (`--calendly-client-id`) to refresh the token with.
        case noOAuthApp
        /// The stored tokens were sealed with another secret key.
        case sealedWithAnotherKey
    }

    /// Any error of a Calendly call, as the failure it is: refusals pass unchanged.
    static func wrapping(_ error: any Error) -> any Error {
        Problem(refusal: error) != nil ? error : CalendlyFailure.unavailable("\(error)")
    }
}
