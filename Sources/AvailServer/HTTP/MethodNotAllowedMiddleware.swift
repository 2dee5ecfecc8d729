import HTTPTypes
import Hummingbird

/// 405 `method_not_allowed` with `Allow` for a path that has routes, only not for the request's
/// method; the router's plain 404 otherwise. Added after every route, so it wraps only the
/// router's not-found answer.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Every routed path with its methods, in the order `Allow` lists them.
    let routes: [(path: RouterPath, methods: [HTTPRequest.Method])]

    init(routes: [Router<Context>.RouteDescription]) {
        var byPath: [String: (path: RouterPath, methods: [HTTPRequest.Method])] = [:]
        for route in routes {
            byPath[route.path.description, default: (route.path, [])].methods.append(route.method)
        }
        self.routes = byPath.values.sorted { $0.path.description < $1.path.description }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = methods(for: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            let list = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            throw Problem(
                .methodNotAllowed, code: .methodNotAllowed,
                detail: "\(request.method) is not allowed here; allowed: \(list)", headers: [.allow: list])
        }
    }

    /// The methods routed for `path` (captures match any one segment).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return routes.filter { route in
            route.path.count == segments.count && zip(route.path, segments).allSatisfy { element, segment in element ~= segment }
        }.flatMap(\.methods)
    }
}
