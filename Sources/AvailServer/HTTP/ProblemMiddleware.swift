import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error that reaches the edge into a problem document with a `code`: Hummingbird's
/// own (unknown route, oversized body) as well as anything unexpected, which is logged and
/// answered as 500 without detail.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let problem = Problem(refusal: error) { throw problem }
            guard let error = error as? any HTTPResponseError else {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
                throw Problem(.internalServerError, code: .internalError, detail: "the request could not be completed")
            }
            throw Problem(error.status, code: Self.code(for: error.status), detail: Self.detail(for: error))
        }
    }

    /// The code of an error Hummingbird itself raised (an unknown route, an oversized body).
    static func code(for status: HTTPResponse.Status) -> ProblemCode {
        switch status {
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .contentTooLarge: .payloadTooLarge
        case .unauthorized: .unauthorized
        case .requestTimeout: .requestTimeout
        case .serviceUnavailable: .unavailable
        default: status.kind == .clientError ? .badRequest : .internalError
        }
    }

    private static func detail(for error: any HTTPResponseError) -> String {
        if let error = error as? HTTPError, let message = error.body { return message }
        return error.status.reasonPhrase
    }
}
