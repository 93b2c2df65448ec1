import Foundation

/// A signed-in browser: a row per session, found by the SHA-256 of the cookie's secret (the
/// secret itself is never stored), with the token every form must echo (CSRF).
public struct WebSession: Sendable, Equatable {
    public var id: String
    public var userID: Int64
    public var csrfToken: String
    public var createdAt: Date
    public var expiresAt: Date
}

public enum DeviceStatus: String, Sendable, Equatable {
    case pending, approved, denied, delivered
}

/// An RFC 8628 device authorization: what a CLI asked for, and what a person in a browser said.
/// Both codes are stored hashed; the key minted on approval waits here, sealed, until the CLI
/// picks it up once.
public struct DeviceGrant: Sendable, Equatable {
    public var deviceCodeHash: Data
    public var userCodeHash: Data
    public var machine: String
    public var scopes: Set<Scope>
    public var createdAt: Date
    public var expiresAt: Date
    public var interval: Int
    public var lastPolledAt: Date?
    public var status: DeviceStatus = .pending
    public var userID: Int64?
    public var sealedKey: Data?
    public var keyID: String?
    /// The address the CLI asked from: shown on the approval page, since the machine names itself.
    public var requestedFrom: String?
}
