import AvailCore
import HTTPTypes

/// The one place the refusals of availd's parts become problem documents.
extension BookingRefusal: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .noIntegration(let expert):
            Problem(.conflict, code: .noIntegration, detail: "expert \(expert) has no availability integration")
        case .notOnCalendly:
            Problem(.conflict, code: .noIntegration, detail: "the appointment's expert is not connected to Calendly")
        case .slotUnavailable(let reason):
            Problem(.conflict, code: .slotUnavailable, detail: reason)
        case .notScheduled(let appointment, let status):
            Problem(.conflict, code: .notScheduled, detail: "appointment \(appointment) is \(status.rawValue)")
        case .canceledAtCalendly(let reason):
            Problem(.conflict, code: .notScheduled, detail: "Calendly: \(reason)")
        case .eventTypeNotOffered(let expert):
            Problem(.badRequest, code: .eventTypeNotOffered, detail: "expert \(expert) does not offer that event type")
        case .eventTypeUnresolved(let expert):
            Problem(
                .conflict, code: .eventTypeUnresolved,
                detail: "expert \(expert)'s Calendly link was not resolved to an event type; connect it again")
        case .notProjected(let appointment):
            Problem(.notFound, code: .notFound, detail: "appointment \(appointment) was recorded but is not in the read models")
        }
    }
}

extension CalendlyFailure: ProblemConvertible {
    var problem: Problem {
        switch self {
        case .unavailable(let what):
            Problem(.badGateway, code: .upstreamUnavailable, detail: what)
        case .noToken:
            Problem(
                .badGateway, code: .upstreamUnavailable,
                detail: "no Calendly token is configured (--calendly-token) and the expert has not connected their own Calendly account")
        case .notConnected(let expert, let what):
            Problem(
                .conflict, code: .calendlyNotConnected,
                detail: "expert \(expert) has not connected a Calendly account, so availd cannot ask \(what)")
        case .reconnectNeeded(let expert, .refused):
            Problem(
                .badGateway, code: .calendlyReconnectNeeded,
                detail: "expert \(expert)'s Calendly connection was refused by Calendly; the expert must connect their Calendly account again")
        case .reconnectNeeded(let expert, .noOAuthApp):
            Problem(
                .badGateway, code: .calendlyReconnectNeeded,
                detail: "expert \(expert)'s Calendly token cannot be refreshed: no OAuth app is configured (--calendly-client-id)")
        case .reconnectNeeded(let expert, .sealedWithAnotherKey):
            Problem(
                .badGateway, code: .calendlyReconnectNeeded,
                detail: "expert \(expert)'s stored Calendly tokens cannot be opened with this daemon's secret key; the expert must connect again")
        }
    }
}
