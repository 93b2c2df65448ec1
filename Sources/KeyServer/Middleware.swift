import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Authenticates every request under `/v1` (but the sign-in), applies the rate limits, records
/// key use, and counts every rejection for the audit. One middleware, shared by every protected route.
///
/// A client address whose credentials keep being refused gets 429 instead of its 401s until its
/// refusal bucket refills, so a guesser learns nothing more and is slowed; a valid credential
/// from the same address (a shared NAT, a proxy, a CI runner) is still served. A malformed key is
/// refused without a database read; a refusal is counted, never written one row at a time.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let services: Services
    /// A route group's own per-credential limiter for credentials that hold its scope; the API's
    /// per-key one otherwise.
    var limiter: (RateLimiter, Scope)?

    init(services: Services, limiter: (RateLimiter, Scope)? = nil) {
        self.services = services
        self.limiter = limiter
    }

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        let principal: Principal
        let started = ContinuousClock.now
        do {
            let client = context.client
            let budget = Authenticator.LookupBudget(limiter: services.unknownKeys, bucket: { ClientAddress.bucket(client) }, now: services.clock())
            principal = try await services.authenticator.principal(for: request, budget: budget)
            services.metrics.authDuration.record(since: started)
        } catch let error as APIError {
            services.metrics.authDuration.record(since: started)
            services.metrics.authFailure(error.code)
            let now = services.clock()
            if let wait = services.refusals.take(ClientAddress.bucket(context.client), now: now) {
                let throttled = Self.tooMany("too many refused credentials from this address", wait)
                services.reject(.init(at: now, event: "request.throttled", code: throttled.code), context)
                throw throttled
            }
            services.reject(.init(at: now, event: "request.rejected", keyID: Self.claimedKeyID(request), code: error.code), context)
            throw error
        }
        let now = services.clock()
        var status: RateLimitStatus?
        do {
            if let (own, scope) = limiter, principal.scopes.contains(scope) {
                if let wait = own.take(principal.bucket, now: now) { throw Self.tooMany("too many requests for this credential", wait) }
                // The group's own rate, but the key's quota all the same.
                try await services.guardrails.consumeQuota(principal, now: now)
            } else {
                status = try await services.guardrails.admit(principal, now: now)
            }
        } catch let error as APIError {
            services.reject(.init(at: now, event: "request.rejected", actor: principal.user.name, credential: principal.credential,
                                  keyID: principal.keyID, team: principal.team, code: error.code), context)
            throw error
        }
        if let keyID = principal.keyID { services.usage.record(keyID, at: now) }
        context.principal = principal
        // For the request's info line and what is logged below it. Skipped when the level hides
        // those lines: the stream handler renders its metadata again on every change (5 % of a
        // request), and error lines still carry the request id.
        if context.logger.logLevel <= .info {
            var metadata = context.logger.handler.metadata
            metadata["actor"] = .string(principal.user.name)
            if let keyID = principal.keyID { metadata["key_id"] = .string(keyID) }
            context.logger.handler.metadata = metadata
        }
        do {
            var response = try await next(request, context)
            status?.apply(to: &response.headers)
            return response
        } catch let error as APIError where error.status == .forbidden {
            services.reject(.init(at: now, event: "request.rejected", actor: principal.user.name, credential: principal.credential,
                                  keyID: principal.keyID, team: principal.team, code: error.code), context)
            throw error
        }
    }

    static func tooMany(_ why: String, _ wait: Int) -> APIError {
        var error = APIError(.rateLimited, "\(why); retry after \(wait) s")
        error.retryAfter = wait
        return error
    }

    /// The public key id of a rejected key, for the audit; never any of the secret.
    static func claimedKeyID(_ request: Request) -> String? {
        let header = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? request.headers[.xAPIKey]
        return Authenticator.claimedKeyID(header)
    }
}

/// Any error that is not already an `APIError` becomes one, so every failure is problem+json;
/// Hummingbird's own 413 and 404 are mapped to reason codes too.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let routes: RouteTable
    let services: Services

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch StorageError.unavailable {
            services.health.set(up: false)
            throw APIError(.databaseUnavailable, "the database is not answering; retry shortly", retryAfter: 1)
        } catch StorageError.invalidText {
            throw APIError.invalidRequest("the request holds a character that cannot be stored (NUL)")
        } catch StorageError.duplicate(let what) {
            throw APIError(.alreadyExists, "\(what) already exists")
        } catch StorageError.missing(let what) {
            throw APIError.notFound("there is no \(what)")
        } catch is NIOTooManyBytesError {
            throw APIError(.bodyTooLarge, "the request body is larger than \(Services.maxBody) bytes")
        } catch let error as HTTPError {
            switch error.status {
            case .contentTooLarge: throw APIError(.bodyTooLarge, "the request body is larger than \(Services.maxBody) bytes")
            case .notFound:
                if let allowed = routes.allowed(on: request.uri.path), !allowed.contains(request.method.rawValue) {
                    var error = APIError(.methodNotAllowed, "\(request.method) is not allowed here; allowed: \(allowed.sorted().joined(separator: ", "))")
                    error.allow = allowed.sorted().joined(separator: ", ")
                    throw error
                }
                throw APIError.notFound("no such endpoint: \(request.method) \(Limits.clip(request.uri.path, 200) ?? "")")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, "\(request.method) is not allowed here")
            default: throw APIError.invalidRequest(error.body ?? error.status.reasonPhrase)
            }
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw APIError(.internalError, "the server failed; the request id identifies it in the log")
        }
    }
}
