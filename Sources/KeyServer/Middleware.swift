import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Authenticates every request under `/v1` (but the sign-in), applies the rate limit, records
/// key use, and audits every rejection. One middleware, shared by every protected route.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let services: Services

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        let principal: Principal
        do {
            principal = try await services.authenticator.principal(for: request)
        } catch let error as APIError {
            await services.audit(event: "request.rejected", actor: nil, keyID: Self.claimedKeyID(request), team: nil,
                                 code: error.code, context: context)
            throw error
        }
        let now = services.clock()
        if let wait = services.rateLimiter.take(principal.bucket, now: now) {
            var error = APIError(.rateLimited, "too many requests for this credential; retry after \(wait) s")
            error.retryAfter = wait
            await services.audit(event: "request.rejected", actor: principal.user.name, keyID: principal.keyID, team: principal.team,
                                 code: error.code, context: context)
            throw error
        }
        if let keyID = principal.keyID { services.usage.record(keyID, at: now) }
        context.principal = principal
        context.logger[metadataKey: "actor"] = .string(principal.user.name)
        if let keyID = principal.keyID { context.logger[metadataKey: "key_id"] = .string(keyID) }
        do {
            return try await next(request, context)
        } catch let error as APIError where error.status == .forbidden {
            await services.audit(event: "request.rejected", actor: principal.user.name, keyID: principal.keyID, team: principal.team,
                                 code: error.code, context: context)
            throw error
        }
    }

    /// The public key id of a rejected key, for the audit; never any of the secret.
    static func claimedKeyID(_ request: Request) -> String? {
        let header = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? request.headers[.xAPIKey]
        guard let header, header.hasPrefix(APIKey.prefix) else { return nil }
        let id = String(header.dropFirst(APIKey.prefix.count).prefix(APIKey.keyIDLength))
        return APIKey.isKeyID(id) ? id : nil
    }
}

/// Any error that is not already an `APIError` becomes one, so every failure is problem+json;
/// Hummingbird's own 413 and 404 are mapped to reason codes too.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(Services.maxBody) bytes")
        } catch let error as HTTPError {
            switch error.status {
            case .contentTooLarge: throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(Services.maxBody) bytes")
            case .notFound: throw APIError.notFound("no such endpoint: \(request.method) \(request.uri.path)")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed on \(request.uri.path)")
            default: throw APIError(error.status, "invalid_request", error.body ?? error.status.reasonPhrase)
            }
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw APIError(.internalServerError, "internal", "the server failed; the request id identifies it in the log")
        }
    }
}
