import DevInfraCore
import Foundation

// What the server stores, split by concern: each protocol is small, and every backend (SQLite,
// PostgreSQL, in memory) implements all of them and passes one conformance suite
// (`StorageConformanceTests`). Implementations must be safe to share between concurrent requests.
//
// The concurrency contract every backend keeps:
// - A unique violation (a second team or user of one name) is `StorageError.duplicate`, never a
//   driver's error.
// - Conditional updates (revoke, rotate) say whether they applied; of two racing, exactly one does.
// - A change and its audit row commit together, or neither does.
// - An unreachable database is `StorageError.unavailable`, which the API answers with 503.

/// Teams, users and memberships.
public protocol UserStore: Sendable {
    func createTeam(_ name: String, at: Date) async throws
    func teamExists(_ name: String) async throws -> Bool
    func createUser(name: String, passwordHash: String?, isAdmin: Bool, teams: [String], at: Date) async throws -> User
    func user(named name: String) async throws -> User?
    func user(id: Int64) async throws -> User?
    func users() async throws -> [User]
    func adminExists() async throws -> Bool
}

/// API keys: their records, revocation, rotation and last use.
public protocol KeyStore: Sendable {
    /// Inserts the key and its audit row in one transaction: no change without its record.
    func insert(_ key: KeyRecord, audit: AuditEvent) async throws
    func key(id: String) async throws -> KeyRecord?
    /// The key and its owner in one read: the per-request path of authentication.
    func keyWithOwner(id: String) async throws -> (KeyRecord, User)?
    /// Keys in key-id order after `cursor`, at most `limit`; nil filters mean "any".
    func keys(ownerID: Int64?, team: String?, after cursor: String?, limit: Int) async throws -> [KeyRecord]
    /// Marks the key revoked unless it already is, with `audit` in the same transaction when it
    /// was not; nil when there is no such key.
    func revoke(id: String, at: Date, by: String, reason: String?, audit: AuditEvent) async throws -> KeyRecord?
    /// In one transaction: when `idempotency` names a record that exists, returns it and changes
    /// nothing; else marks `oldID` rotated to `new` only if it is still active at `now` (not
    /// revoked, expired or already rotated) and inserts `new` (and `idempotency`).
    func rotate(oldID: String, to new: KeyRecord, graceEndsAt: Date, now: Date, idempotency: IdempotencyRecord?,
                audit: AuditEvent) async throws -> RotationOutcome
    /// Raises each key's `last_used_at` to the given time (never lowers it).
    func recordUse(_ lastUsed: [String: Date]) async throws
    /// Writes the key's name, scopes, expiry, rate limit and quota (limit and period; `resetQuota`
    /// also zeroes its use) unless it was revoked meanwhile, with `audit`; the key as stored after,
    /// or nil when there is no such key or it is revoked.
    func update(_ key: KeyRecord, resetQuota: Bool, audit: AuditEvent) async throws -> KeyRecord?
    /// Takes one request from the key's quota, atomically (every replica counts in one place):
    /// a new window (day, month) starts from zero. The count lives on the key's `quota_key` (the
    /// first key of its rotation chain, or the key that minted it), so successors and siblings
    /// share one count; the limit and period are the key's own.
    func consumeQuota(keyID: String, now: Date) async throws -> QuotaUse
}

/// `Idempotency-Key` records: the raw key of a create or rotate, sealed, for a retry.
public protocol IdempotencyStore: Sendable {
    func idempotency(credential: String, key: String) async throws -> IdempotencyRecord?
    /// In one transaction: the existing record for the same credential and header, if any (and
    /// nothing is inserted), else nil once the key and the record are stored together.
    func insert(_ key: KeyRecord, idempotency: IdempotencyRecord, audit: AuditEvent) async throws -> IdempotencyRecord?
    /// Forgets idempotency records (and their sealed keys) created before `date`.
    func pruneIdempotency(before date: Date) async throws
}

/// The audit log.
public protocol AuditStore: Sendable {
    func append(_ events: [AuditEvent]) async throws
    func audit(keyID: String?, actor: String?, credential: String?, event: String?, after cursor: Int64?, limit: Int) async throws -> [AuditEvent]
    /// Forgets audit rows of `events` (counted refusals, never changes) older than `date`.
    func pruneAudit(events: [String], before date: Date) async throws
    /// How many audit rows there are: the test that unauthenticated load cannot grow the database.
    func auditCount() async throws -> Int
}

/// Machine identities and kill switches: integrations (users of kind `integration`, named
/// `TEAM/NAME`, members of TEAM only), team roles, and the disabled flags of users and teams. Every
/// change that alters what a cached key may do is published on the change feed.
public protocol IdentityStore: Sendable {
    /// Adds the membership if it is missing, and sets its role.
    func setTeamRole(userID: Int64, team: String, role: TeamRole) async throws
    func createIntegration(team: String, name: String, scopes: Set<Scope>, rateLimit: RateLimitPolicy?, by: String, at: Date,
                           audit: AuditEvent) async throws -> User
    /// Integrations not deleted, by name; of one team when `team` is given.
    func integrations(team: String?) async throws -> [User]
    /// In one transaction: revokes every key of the integration still unrevoked, drops its trust
    /// policies, and frees its name (the row stays, renamed `TEAM/NAME#ID`, for the keys' history).
    func deleteIntegration(id: Int64, at: Date, by: String, audit: AuditEvent) async throws
    /// The kill switch of a user or an integration: `at` disables (`byAdmin` says whether an admin
    /// threw it: only an admin may undo that), nil enables. False when no such user.
    func setDisabled(userID: Int64, at: Date?, byAdmin: Bool, audit: AuditEvent) async throws -> Bool
    /// The kill switch of a team (every key bound to it, integrations' keys included). False when no such team.
    func setTeamDisabled(_ team: String, at: Date?, byAdmin: Bool, audit: AuditEvent) async throws -> Bool
    /// The teams switched off, each with whether an admin threw the switch.
    func disabledTeams() async throws -> [String: Bool]
}

/// OIDC trust policies (which CI tokens may be exchanged for which integration's keys), and the
/// token ids already exchanged.
public protocol TrustPolicyStore: Sendable {
    func createPolicy(_ policy: TrustPolicy, audit: AuditEvent) async throws
    /// Every policy, by name, with its integration's current name.
    func policies() async throws -> [TrustPolicy]
    func deletePolicy(name: String, audit: AuditEvent) async throws -> TrustPolicy?
    /// Records (`issuer`, `jti`) until `expiresAt`; false when it was recorded before (a replay).
    /// Forgets ids whose tokens expired before `now`.
    func claimTokenID(issuer: String, jti: String, expiresAt: Date, now: Date) async throws -> Bool
}

/// Browser sessions, passwords, and RFC 8628 device grants.
public protocol WebStore: Sendable {
    /// Stores the session, forgetting expired ones.
    func createSession(_ session: WebSession) async throws
    /// The session and its user, unless unknown or expired at `now`.
    func session(id: String, now: Date) async throws -> (WebSession, User)?
    func deleteSession(id: String) async throws
    /// Every session of the user: a password change, a switched-off account.
    func deleteSessions(userID: Int64) async throws
    /// A new password hash, and every session of the user ended, in one transaction.
    func setPassword(userID: Int64, hash: String, audit: AuditEvent) async throws
    /// Stores the grant (a user code already pending is `StorageError.duplicate`), forgetting
    /// grants that expired a day ago.
    func createDeviceGrant(_ grant: DeviceGrant) async throws
    func deviceGrant(userCodeHash: Data) async throws -> DeviceGrant?
    func deviceGrant(deviceCodeHash: Data) async throws -> DeviceGrant?
    /// Records a poll (and the interval it leaves): slow_down's bookkeeping.
    func polled(deviceCodeHash: Data, at: Date, interval: Int) async throws
    /// Approves (with the minted key, inserted in the same transaction) or denies a grant that is
    /// still pending; false when it no longer was (another tab answered first), and nothing changes.
    func resolve(_ grant: DeviceGrant, key: KeyRecord?, audit: AuditEvent) async throws -> Bool
    /// The approved grant, with its sealed key, exactly once: it becomes `delivered` and forgets the key.
    func deliver(deviceCodeHash: Data) async throws -> DeviceGrant?
}

/// The small protected resource of the API.
public protocol ProjectStore: Sendable {
    func projects(team: String) async throws -> [Project]
    func createProject(team: String, name: String, by: String, at: Date) async throws -> Project
}

/// Everything the server stores, and how a replica hears of changes made elsewhere.
public protocol KeyRepository: UserStore, KeyStore, IdempotencyStore, AuditStore, ProjectStore, IdentityStore, TrustPolicyStore, WebStore {
    /// What a cache of key records may rely on to hear of changes (see `KeyCache`).
    var changes: ChangeFeed { get }
    /// A cheap round trip: the readiness answer of `/readyz`.
    func ping() async throws
    /// Pool use for `/metrics`; nil where there is no pool.
    var statistics: StorageStatistics? { get }
}

/// How busy a store's connection pool is, for `/metrics`.
public struct StorageStatistics: Sendable {
    public var callsInFlight: Int
    public var poolSize: Int
    public init(callsInFlight: Int, poolSize: Int) {
        self.callsInFlight = callsInFlight
        self.poolSize = poolSize
    }
}

extension KeyRepository {
    /// Stores without a pool to speak of report nothing.
    public var statistics: StorageStatistics? { nil }
}

/// What a conditional rotation did.
public enum RotationOutcome: Sendable, Equatable {
    case rotated
    /// The key was no longer active when the transaction ran (a parallel rotation or revocation won).
    case notActive
    /// The same credential sent the same `Idempotency-Key` before: this is its record.
    case replay(IdempotencyRecord)
}

/// Storage failures the API answers with a reason code of its own.
public enum StorageError: Error, Sendable, Equatable {
    /// A row with this unique name exists (a team, a user, an integration, a policy): 409 `already_exists`.
    case duplicate(String)
    /// The database cannot be reached or is not answering; the request may be retried.
    case unavailable
    /// Text the database cannot store (PostgreSQL refuses NUL characters).
    case invalidText
    /// A row the change names does not exist (a user, a team).
    case missing(String)
}

extension StorageError: DevInfraError {
    public var reason: ReasonCode {
        switch self {
        case .unavailable: .databaseUnavailable
        case .duplicate, .invalidText: .invalidArgument
        case .missing: .notFound
        }
    }

    /// What an admin command prints (the server answers with its own problem+json).
    public var message: String {
        switch self {
        case .unavailable: "the database is not answering (is it running, and do the URL's host, port, user and sslmode fit it?)"
        case .duplicate(let what): "\(what) already exists"
        case .invalidText: "the text holds a character the database cannot store (NUL)"
        case .missing(let what): "there is no \(what)"
        }
    }
}
