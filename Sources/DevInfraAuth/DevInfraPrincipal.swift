import Foundation
import Hummingbird

/// Who a request's credential belongs to, as dev-infra's introspection described it.
public struct DevInfraPrincipal: Sendable, Equatable {
    public var username: String
    /// The user's id at dev-infra (introspection's `sub`).
    public var subject: String
    /// `key` or `jwt`.
    public var kind: String
    public var keyID: String?
    /// The key's team; nil for team-less keys and tokens.
    public var team: String?
    public var scopes: Set<String>
    /// When it stops working (expiry, or the end of a rotation's grace); nil for never.
    public var expiresAt: Date?

    public init(username: String, subject: String, kind: String, keyID: String?, team: String?, scopes: Set<String>, expiresAt: Date?) {
        self.username = username
        self.subject = subject
        self.kind = kind
        self.keyID = keyID
        self.team = team
        self.scopes = scopes
        self.expiresAt = expiresAt
    }
}

/// A request context that can carry the principal; `DevInfraAuthMiddleware` sets it.
public protocol DevInfraAuthRequestContext: RequestContext {
    var devInfraPrincipal: DevInfraPrincipal? { get set }
}

/// A ready-made context for services that need nothing else.
public struct DevInfraRequestContext: DevInfraAuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var devInfraPrincipal: DevInfraPrincipal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
