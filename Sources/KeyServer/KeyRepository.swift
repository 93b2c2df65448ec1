import Foundation

/// Everything the server stores, behind one protocol so that SQLite and (later) PostgreSQL are
/// interchangeable. Implementations must be safe to share between concurrent requests.
public protocol KeyRepository: Sendable {
    func createTeam(_ name: String, at: Date) async throws
    func teamExists(_ name: String) async throws -> Bool
    func createUser(name: String, passwordHash: String?, isAdmin: Bool, teams: [String], at: Date) async throws -> User
    func user(named name: String) async throws -> User?
    func user(id: Int64) async throws -> User?
    func users() async throws -> [User]
    func adminExists() async throws -> Bool

    func insert(_ key: KeyRecord) async throws
    func key(id: String) async throws -> KeyRecord?
    /// The key and its owner in one read: the per-request path of authentication.
    func keyWithOwner(id: String) async throws -> (KeyRecord, User)?
    /// Keys in key-id order after `cursor`, at most `limit`; nil filters mean "any".
    func keys(ownerID: Int64?, team: String?, after cursor: String?, limit: Int) async throws -> [KeyRecord]
    func revoke(id: String, at: Date, by: String, reason: String?) async throws -> KeyRecord?
    /// Inserts `new` and marks `oldID` as rotated to it (storing `idempotency` too), in one transaction.
    func rotate(oldID: String, to new: KeyRecord, graceEndsAt: Date, idempotency: IdempotencyRecord?) async throws
    func recordUse(_ lastUsed: [String: Date]) async throws

    func idempotency(ownerID: Int64, key: String) async throws -> IdempotencyRecord?
    /// Stores the record with the key it minted, in one transaction.
    func insert(_ key: KeyRecord, idempotency: IdempotencyRecord) async throws
    /// Forgets idempotency records (and their sealed keys) created before `date`.
    func pruneIdempotency(before date: Date) async throws

    func append(_ events: [AuditEvent]) async throws
    func audit(keyID: String?, actor: String?, event: String?, after cursor: Int64?, limit: Int) async throws -> [AuditEvent]

    func projects(team: String) async throws -> [Project]
    func createProject(team: String, name: String, by: String, at: Date) async throws -> Project
}
