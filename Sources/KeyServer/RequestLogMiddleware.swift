import Hummingbird
import Logging

/// Hummingbird's request line, without the query string: behind Envoy, `/v1/check/...` carries the
/// path and query of another service's request, whose parameters may be secrets of that service.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let level: Logger.Level

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        context.logger.log(level: level, "Request", metadata: [
            "hb.request.path": .string(request.uri.path.hasPrefix("/v1/check/") ? "/v1/check/…" : request.uri.path),
            "hb.request.method": .string(request.method.rawValue),
        ])
        return try await next(request, context)
    }
}
