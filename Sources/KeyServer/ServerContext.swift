import Foundation
import Hummingbird
import Logging
import NIOCore

/// Who is calling: resolved once by `AuthMiddleware` and read by every controller.
public struct Principal: Sendable {
    /// A key, a JWT from `/v1/auth/token`, or a browser's session (the pages).
    public enum Kind: String, Sendable { case key, jwt, session }
    public var kind: Kind
    public var user: User
    public var keyID: String?
    public var scopes: Set<Scope>
    /// A key's team; nil for JWTs and team-less keys.
    public var team: String?
    public var expiresAt: Date?
    /// When the key was created or the token issued (introspection's `iat`).
    public var issuedAt: Date?
    /// A rotated key still in its grace period.
    public var rotating = false
    /// The key's own rate limit (nil: the server's default).
    public var rateLimit: RateLimitPolicy?
    /// The key's quota period, when it has a quota: each request takes one from it.
    public var quotaPeriod: QuotaPeriod?
    public var quotaLimit: Int64?
    /// The key whose count the quota takes from (nil: its own).
    public var quotaKey: String?

    var hasQuota: Bool { quotaPeriod != nil }

    var isAdmin: Bool { scopes.contains(.admin) && user.isAdmin }
    /// What the audit names as the acting credential: the key id, or `jwt`.
    var credential: String { keyID ?? (kind == .session ? "session" : "jwt") }
    /// What idempotency records are keyed by: the key, or the user's signed-in sessions.
    var idempotencyScope: String { keyID ?? "jwt:\(user.id)" }
    /// The rate-limit bucket: per key, or per user for JWTs.
    var bucket: String { keyID ?? "user:\(user.id)" }
}

/// The request context: the client address for the audit, and the principal once known.
public struct ServerContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    var requestID: String { logger[metadataKey: "hb.request.id"]?.description ?? "" }
    var client: String? { remoteAddress?.ipAddress }
    var origin: AuditOrigin { AuditOrigin(client: client, requestID: requestID) }

    func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError(.missingCredentials, "no credential was sent") }
        return principal
    }
}
