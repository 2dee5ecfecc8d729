import AvailCore

/// Every `code` a refusal of availd's carries: the list the API document's table of refusals
/// gives, in its order (a test compares the two).
public enum ProblemCode: String, CaseIterable, Sendable {
    case invalidParameter = "invalid_parameter"
    case invalidField = "invalid_field"
    case invalidJSON = "invalid_json"
    case invalidRange = "invalid_range"
    case invalidEventLink = "invalid_event_link"
    case invalidPayload = "invalid_payload"
    case missingSignature = "missing_signature"
    case malformedSignature = "malformed_signature"
    case invalidSignature = "invalid_signature"
    case staleSignature = "stale_signature"
    case unauthorized
    case invalidForm = "invalid_form"
    case forbidden
    case csrfFailed = "csrf_failed"
    case notYourEventType = "not_your_event_type"
    case eventTypeNotOffered = "event_type_not_offered"
    case oauthFailed = "oauth_failed"
    case oauthNotConfigured = "oauth_not_configured"
    case calendlyNotConnected = "calendly_not_connected"
    case notFound = "not_found"
    case eventTypeNotFound = "event_type_not_found"
    case methodNotAllowed = "method_not_allowed"
    case requestTimeout = "request_timeout"
    case noIntegration = "no_integration"
    case slotUnavailable = "slot_unavailable"
    case notScheduled = "not_scheduled"
    case eventTypeTaken = "event_type_taken"
    case eventTypeUnresolved = "event_type_unresolved"
    case payloadTooLarge = "payload_too_large"
    case badRequest = "bad_request"
    case malformedRequest = "malformed_request"
    case headersTooLarge = "headers_too_large"
    case tooManyStreams = "too_many_streams"
    case internalError = "internal_error"
    case upstreamUnavailable = "upstream_unavailable"
    case calendlyReconnectNeeded = "calendly_reconnect_needed"
    case unavailable
    case overloaded
    case projectionLag = "projection_lag"
}

extension ProblemCode {
    /// The code of a webhook signature the verifier refused.
    init(_ failure: WebhookSignature.Failure) {
        switch failure {
        case .missing: self = .missingSignature
        case .malformed: self = .malformedSignature
        case .invalid: self = .invalidSignature
        case .stale: self = .staleSignature
        }
    }
}
