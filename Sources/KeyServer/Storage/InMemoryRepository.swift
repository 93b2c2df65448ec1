import Foundation
import NIOConcurrencyHelpers

/// Everything in one locked value: the fast tier of tests, and `--database memory:` for a
/// throwaway server. Each method runs under one lock, which is its transaction.
public final class InMemoryRepository: KeyRepository {
    public let changes = ChangeFeed(live: true)

    struct State {
        var teams: [String: Date] = [:]
        var disabledTeams: [String: (at: Date, byAdmin: Bool)] = [:]
        var sessions: [String: WebSession] = [:]
        var grants: [Data: DeviceGrant] = [:]
        /// Quota counts by quota key (see `KeyRecord.quotaKey`).
        var quotaCounts: [String: (used: Int64, window: Date?)] = [:]
        var policies: [String: TrustPolicy] = [:]
        var tokenIDs: [String: Date] = [:]
        var users: [Int64: User] = [:]
        var nextUserID: Int64 = 1
        var keys: [String: KeyRecord] = [:]
        var idempotency: [String: IdempotencyRecord] = [:]
        var audit: [AuditEvent] = []
        var nextAuditID: Int64 = 1
        var projects: [Project] = []
        var nextProjectID: Int64 = 1

        mutating func append(_ event: AuditEvent) {
            var event = event
            event.id = nextAuditID
            event.at = event.at.wholeSeconds
            nextAuditID += 1
            audit.append(event)
        }

        /// A key as a read returns it: the owner's current name, kind and kill switch, its team's.
        func read(_ key: KeyRecord) -> KeyRecord {
            var key = key
            if let owner = users[key.ownerID] {
                key.ownerName = owner.name
                key.ownerKind = owner.kind
                key.ownerDisabled = owner.disabledAt != nil
            }
            key.teamDisabled = key.team.map { disabledTeams[$0] != nil } ?? false
            // The count lives on the quota key (itself, or the first of its chain).
            if var quota = key.quota {
                let counter = quotaCounts[key.quotaKey ?? key.keyID]
                quota.used = counter?.used ?? 0
                quota.windowStart = counter?.window
                key.quota = quota
            }
            return key
        }
    }

    let state = NIOLockedValueBox(State())

    public init() {}

    public func ping() async throws {}

    // MARK: Users and teams

    public func createTeam(_ name: String, at: Date) async throws {
        try state.withLockedValue { state in
            guard state.teams[name] == nil else { throw StorageError.duplicate("team \(name)") }
            state.teams[name] = at.wholeSeconds
        }
    }

    public func teamExists(_ name: String) async throws -> Bool { state.withLockedValue { $0.teams[name] != nil } }

    public func createUser(name: String, passwordHash: String?, isAdmin: Bool, teams: [String], at: Date) async throws -> User {
        try state.withLockedValue { state in
            guard !state.users.values.contains(where: { $0.name == name }) else { throw StorageError.duplicate("user \(name)") }
            let user = User(id: state.nextUserID, name: name, passwordHash: passwordHash, isAdmin: isAdmin, teams: teams.sorted(),
                            createdAt: at.wholeSeconds)
            state.nextUserID += 1
            state.users[user.id] = user
            return user
        }
    }

    public func user(named name: String) async throws -> User? { state.withLockedValue { $0.users.values.first { $0.name == name } } }
    public func user(id: Int64) async throws -> User? { state.withLockedValue { $0.users[id] } }
    public func users() async throws -> [User] { state.withLockedValue { $0.users.values.sorted { $0.name < $1.name } } }
    public func adminExists() async throws -> Bool { state.withLockedValue { $0.users.values.contains { $0.isAdmin } } }

    // MARK: Keys

    public func insert(_ key: KeyRecord, audit: AuditEvent) async throws {
        try state.withLockedValue { state in
            // A primary key, as in the databases: a second key of one id is refused, not written over.
            guard state.keys[key.keyID] == nil else { throw StorageError.duplicate("key \(key.keyID)") }
            state.keys[key.keyID] = key
            state.append(audit)
        }
    }

    public func key(id: String) async throws -> KeyRecord? {
        state.withLockedValue { state in state.keys[id].map(state.read) }
    }

    public func keyWithOwner(id: String) async throws -> (KeyRecord, User)? {
        state.withLockedValue { state in
            guard let key = state.keys[id], var owner = state.users[key.ownerID] else { return nil }
            owner.passwordHash = nil
            return (state.read(key), owner)
        }
    }

    public func keys(ownerID: Int64?, team: String?, after cursor: String?, limit: Int) async throws -> [KeyRecord] {
        state.withLockedValue { state in
            state.keys.values
                .filter { $0.keyID > (cursor ?? "") && (ownerID == nil || $0.ownerID == ownerID) && (team == nil || $0.team == team) }
                .sorted { $0.keyID < $1.keyID }
                .prefix(limit)
                .map(state.read)
        }
    }

    public func revoke(id: String, at: Date, by: String, reason: String?, audit: AuditEvent) async throws -> KeyRecord? {
        defer { changes.publish(.key(id)) }
        return state.withLockedValue { state in
            guard var key = state.keys[id] else { return nil }
            if key.revokedAt == nil {
                key.revokedAt = at.wholeSeconds
                key.revokedBy = by
                key.revokeReason = reason
                state.keys[id] = key
                state.append(audit)
            }
            return state.read(key)
        }
    }

    public func rotate(oldID: String, to new: KeyRecord, graceEndsAt: Date, now: Date, idempotency: IdempotencyRecord?,
                       audit: AuditEvent) async throws -> RotationOutcome {
        defer { changes.publish(.key(oldID)) }
        return state.withLockedValue { state in
            if let idempotency, let existing = state.idempotency[Self.idempotencyID(idempotency.credential, idempotency.idempotencyKey)] {
                return .replay(existing)
            }
            guard var old = state.keys[oldID], old.rotatedTo == nil, old.revokedAt == nil,
                  old.expiresAt.map({ $0.epochSeconds > now.epochSeconds }) ?? true else {
                return .notActive
            }
            old.rotatedTo = new.keyID
            old.graceEndsAt = graceEndsAt.wholeSeconds
            state.keys[oldID] = old
            state.keys[new.keyID] = new
            if let idempotency { state.idempotency[Self.idempotencyID(idempotency.credential, idempotency.idempotencyKey)] = idempotency }
            state.append(audit)
            return .rotated
        }
    }

    public func recordUse(_ lastUsed: [String: Date]) async throws {
        state.withLockedValue { state in
            for (id, at) in lastUsed {
                guard var key = state.keys[id] else { continue }
                let at = at.wholeSeconds
                key.lastUsedAt = max(key.lastUsedAt ?? at, at)
                state.keys[id] = key
            }
        }
    }

    // MARK: Idempotency

    static func idempotencyID(_ credential: String, _ key: String) -> String { credential + "\u{0}" + key }

    public func idempotency(credential: String, key: String) async throws -> IdempotencyRecord? {
        state.withLockedValue { $0.idempotency[Self.idempotencyID(credential, key)] }
    }

    public func insert(_ key: KeyRecord, idempotency record: IdempotencyRecord, audit: AuditEvent) async throws -> IdempotencyRecord? {
        state.withLockedValue { state in
            let id = Self.idempotencyID(record.credential, record.idempotencyKey)
            if let existing = state.idempotency[id] { return existing }
            state.keys[key.keyID] = key
            var record = record
            record.createdAt = record.createdAt.wholeSeconds
            state.idempotency[id] = record
            state.append(audit)
            return nil
        }
    }

    public func pruneIdempotency(before date: Date) async throws {
        let cutoff = date.epochSeconds
        state.withLockedValue { $0.idempotency = $0.idempotency.filter { $0.value.createdAt.epochSeconds >= cutoff } }
    }

    // MARK: Audit and projects

    public func append(_ events: [AuditEvent]) async throws {
        state.withLockedValue { state in events.forEach { state.append($0) } }
    }

    public func audit(keyID: String?, actor: String?, credential: String?, event: String?, after cursor: Int64?, limit: Int) async throws -> [AuditEvent] {
        state.withLockedValue { state in
            Array(state.audit.lazy.filter {
                ($0.id ?? 0) > (cursor ?? 0) && (keyID == nil || $0.keyID == keyID) && (actor == nil || $0.actor == actor)
                    && (credential == nil || $0.credential == credential) && (event == nil || $0.event == event)
            }.prefix(limit))
        }
    }

    public func pruneAudit(events: [String], before date: Date) async throws {
        let cutoff = date.epochSeconds
        state.withLockedValue { $0.audit.removeAll { events.contains($0.event) && $0.at.epochSeconds < cutoff } }
    }

    public func auditCount() async throws -> Int { state.withLockedValue { $0.audit.count } }

    public func projects(team: String) async throws -> [Project] { state.withLockedValue { $0.projects.filter { $0.team == team } } }

    public func createProject(team: String, name: String, by: String, at: Date) async throws -> Project {
        state.withLockedValue { state in
            let project = Project(id: state.nextProjectID, team: team, name: name, createdBy: by, createdAt: at.wholeSeconds)
            state.nextProjectID += 1
            state.projects.append(project)
            return project
        }
    }
}
