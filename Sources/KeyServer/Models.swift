import Foundation

/// A user of the server: a person or an admin. Passwords are stored as bcrypt hashes only.
public struct User: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var passwordHash: String?
    public var isAdmin: Bool
    public var teams: [String]
    public var createdAt: Date
    public var kind: OwnerKind = .person
    /// The teams this user administers (a subset of `teams`).
    public var adminTeams: [String] = []
    /// An integration's allowlist: every scope its keys may ever hold. Nil for people.
    public var allowedScopes: Set<Scope>?
    /// An integration's rate limit, shared by all its keys.
    public var rateLimit: RateLimitPolicy?
    /// The kill switch: every key (and sign-in) of a disabled user or integration is refused.
    public var disabledAt: Date?
    /// Who made the integration.
    public var createdBy: String?
    /// Whether an admin threw the kill switch (a team admin may not undo it).
    public var disabledByAdmin = false

    /// What the user's credentials may hold at most: an integration's allowlist; for people, by role.
    var scopes: Set<Scope> {
        if kind == .integration { return allowedScopes ?? [] }
        return isAdmin ? Scope.adminAll : Scope.userDefault
    }

    func administers(_ team: String) -> Bool { kind == .person && adminTeams.contains(team) }
}

/// An API key as stored: the SHA-256 of its secret, never the secret.
public struct KeyRecord: Sendable, Equatable {
    public var keyID: String
    public var secretHash: Data
    public var name: String
    public var ownerID: Int64
    public var ownerName: String
    public var team: String?
    public var scopes: Set<Scope>
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    public var revokedBy: String?
    public var revokeReason: String?
    public var rotatedFrom: String?
    public var rotatedTo: String?
    public var graceEndsAt: Date?
    /// Who minted the key: a user's name, or `oidc:<policy>` for a CI job's exchange.
    public var createdBy: String?
    /// The key's own rate limit; nil means the server's default.
    public var rateLimit: RateLimitPolicy?
    public var quota: Quota?
    /// The key whose count this key's quota takes from (nil: its own): rotations and keys a
    /// quota'd key mints share one count, so neither buys a fresh quota.
    public var quotaKey: String?
    // Read with the key from its owner and team (not columns of the key):
    public var ownerKind: OwnerKind = .person
    public var ownerDisabled = false
    public var teamDisabled = false

    /// Active, or why not, at `now`.
    func state(at now: Date) -> KeyState {
        if revokedAt != nil { return .revoked }
        if let expiresAt, expiresAt <= now { return .expired }
        if let graceEndsAt, graceEndsAt <= now { return .expired }
        if ownerDisabled || teamDisabled { return .disabled }
        if rotatedTo != nil { return .rotating }
        return .active
    }
}

public enum KeyState: String, Codable, Sendable {
    case active, rotating, revoked, expired, disabled
}

/// A key's quota as the API shows it.
public struct QuotaView: Codable, Sendable, Equatable {
    public var limit: Int64
    public var period: QuotaPeriod
    public var used: Int64
    public var resetsAt: Date?
    enum CodingKeys: String, CodingKey { case limit, period, used, resetsAt = "resets_at" }

    init(_ quota: Quota, now: Date) {
        limit = quota.limit
        period = quota.period
        used = quota.used(at: now)
        resetsAt = quota.period.windowEnd(now)
    }
}

/// The JSON of a key, as every endpoint returns it.
public struct KeyView: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var owner: String
    public var team: String?
    public var scopes: [String]
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    public var state: KeyState
    public var revokedAt: Date?
    public var revokedBy: String?
    public var revokeReason: String?
    public var rotatedFrom: String?
    public var rotatedTo: String?
    public var graceEndsAt: Date?
    public var ownerKind: OwnerKind
    public var createdBy: String?
    public var rateLimit: RateLimitPolicy?
    public var quota: QuotaView?

    enum CodingKeys: String, CodingKey {
        case id, name, owner, team, scopes, state, quota
        case createdAt = "created_at", expiresAt = "expires_at", lastUsedAt = "last_used_at"
        case revokedAt = "revoked_at", revokedBy = "revoked_by", revokeReason = "revoke_reason"
        case rotatedFrom = "rotated_from", rotatedTo = "rotated_to", graceEndsAt = "grace_ends_at"
        case ownerKind = "owner_kind", createdBy = "created_by", rateLimit = "rate_limit"
    }

    init(_ record: KeyRecord, now: Date) {
        id = record.keyID
        name = record.name
        owner = record.ownerName
        team = record.team
        scopes = record.scopes.sorted().map(\.rawValue)
        createdAt = record.createdAt
        expiresAt = record.expiresAt
        lastUsedAt = record.lastUsedAt
        state = record.state(at: now)
        revokedAt = record.revokedAt
        revokedBy = record.revokedBy
        revokeReason = record.revokeReason
        rotatedFrom = record.rotatedFrom
        rotatedTo = record.rotatedTo
        graceEndsAt = record.graceEndsAt
        ownerKind = record.ownerKind
        createdBy = record.createdBy
        rateLimit = record.rateLimit
        quota = record.quota.map { QuotaView($0, now: now) }
    }

    /// Nulls are written out (`"quota": null`): a client can tell "no quota" from an old server.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(owner, forKey: .owner)
        try c.encode(ownerKind, forKey: .ownerKind)
        try c.encodeIfPresent(team, forKey: .team)
        try c.encode(scopes, forKey: .scopes)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try c.encodeIfPresent(lastUsedAt, forKey: .lastUsedAt)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(revokedAt, forKey: .revokedAt)
        try c.encodeIfPresent(revokedBy, forKey: .revokedBy)
        try c.encodeIfPresent(revokeReason, forKey: .revokeReason)
        try c.encodeIfPresent(rotatedFrom, forKey: .rotatedFrom)
        try c.encodeIfPresent(rotatedTo, forKey: .rotatedTo)
        try c.encodeIfPresent(graceEndsAt, forKey: .graceEndsAt)
        try c.encodeIfPresent(createdBy, forKey: .createdBy)
        try c.encode(rateLimit, forKey: .rateLimit)
        try c.encode(quota, forKey: .quota)
    }
}

/// A key just minted: its metadata and, this once, the raw key.
public struct CreatedKeyView: Codable, Sendable {
    public var key: KeyView
    public var apiKey: String
    enum CodingKeys: String, CodingKey { case key, apiKey = "api_key" }
}

public struct KeyPage: Codable, Sendable {
    public var items: [KeyView]
    public var nextCursor: String?
    enum CodingKeys: String, CodingKey { case items, nextCursor = "next_cursor" }
}

/// One audited event. Never holds a secret.
public struct AuditEvent: Codable, Sendable, Equatable {
    public var id: Int64?
    public var at: Date
    public var event: String
    /// The user (or `operator` for admin commands) who acted; for a refused sign-in, the name tried.
    public var actor: String?
    /// The credential that acted: its key id, or `jwt` for a signed-in user.
    public var credential: String?
    public var keyID: String?
    /// What the event made or touched beside the key: the new key id of a rotation, a user's name.
    public var target: String?
    public var team: String?
    public var code: String?
    public var client: String?
    public var requestID: String?
    /// Repeated rejections are stored once with a count (and `at` is the last of them).
    public var count: Int = 1
    /// Why, in the words of whoever acted (a kill switch's reason); never a secret.
    public var reason: String?

    public init(id: Int64? = nil, at: Date, event: String, actor: String? = nil, credential: String? = nil, keyID: String? = nil,
                target: String? = nil, team: String? = nil, code: String? = nil, client: String? = nil, requestID: String? = nil,
                count: Int = 1, reason: String? = nil) {
        self.id = id
        self.at = at
        self.event = event
        self.actor = actor
        self.credential = credential
        self.keyID = keyID
        self.target = target
        self.team = team
        self.code = code
        self.client = client
        self.requestID = requestID
        self.count = count
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case id, at, event, actor, credential, target, team, code, client, count, reason
        case keyID = "key_id", requestID = "request_id"
    }
}

public struct AuditPage: Codable, Sendable {
    public var items: [AuditEvent]
    public var nextCursor: String?
    enum CodingKeys: String, CodingKey { case items, nextCursor = "next_cursor" }
}

public struct Project: Codable, Sendable, Equatable {
    public var id: Int64
    public var team: String
    public var name: String
    public var createdBy: String
    public var createdAt: Date
    enum CodingKeys: String, CodingKey { case id, team, name, createdBy = "created_by", createdAt = "created_at" }
}

/// A stored `Idempotency-Key`: the request it answered and the key it minted, with the raw key
/// sealed (AES-GCM under the server key), so that a retry gets the same key back.
public struct IdempotencyRecord: Sendable, Equatable {
    /// The credential that made the request (a key id, or `user:<id>` for a JWT): a narrower key
    /// of the same user that learns the header's value gets nothing.
    public var credential: String
    public var idempotencyKey: String
    public var requestHash: Data
    public var keyID: String
    public var sealedKey: Data
    public var createdAt: Date
}

extension Date {
    /// Stored times have whole seconds; a freshly made record is rounded the same way, so what a
    /// create returns equals what a later read returns.
    var wholeSeconds: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
