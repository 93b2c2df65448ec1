import Foundation

/// Integrations, roles, kill switches, key updates, quotas and trust policies, in memory.
extension InMemoryRepository {
    public func setTeamRole(userID: Int64, team: String, role: TeamRole) async throws {
        defer { changes.publish(.user(userID)) }
        try state.withLockedValue { state in
            guard var user = state.users[userID] else { throw StorageError.missing("user \(userID)") }
            guard state.teams[team] != nil else { throw StorageError.missing("team \(team)") }
            if !user.teams.contains(team) { user.teams = (user.teams + [team]).sorted() }
            user.adminTeams.removeAll { $0 == team }
            if role == .admin { user.adminTeams = (user.adminTeams + [team]).sorted() }
            state.users[userID] = user
        }
    }

    public func createIntegration(team: String, name: String, scopes: Set<Scope>, rateLimit: RateLimitPolicy?, by: String, at: Date,
                                  audit: AuditEvent) async throws -> User {
        try state.withLockedValue { state in
            let fullName = "\(team)/\(name)"
            guard !state.users.values.contains(where: { $0.name == fullName }) else { throw StorageError.duplicate("integration \(fullName)") }
            let user = User(id: state.nextUserID, name: fullName, passwordHash: nil, isAdmin: false, teams: [team], createdAt: at.wholeSeconds,
                            kind: .integration, allowedScopes: scopes, rateLimit: rateLimit, createdBy: by)
            state.nextUserID += 1
            state.users[user.id] = user
            state.append(audit)
            return user
        }
    }

    public func integrations(team: String?) async throws -> [User] {
        state.withLockedValue { state in
            state.users.values.filter { $0.kind == .integration && !$0.name.contains("#") && (team == nil || $0.teams == [team!]) }
                .sorted { $0.name < $1.name }
        }
    }

    public func deleteIntegration(id: Int64, at: Date, by: String, audit: AuditEvent) async throws {
        defer { changes.publish(.user(id)) }
        state.withLockedValue { state in
            guard var user = state.users[id], user.kind == .integration else { return }
            for (keyID, var key) in state.keys where key.ownerID == id && key.revokedAt == nil {
                key.revokedAt = at.wholeSeconds
                key.revokedBy = by
                key.revokeReason = "integration deleted"
                state.keys[keyID] = key
            }
            state.policies = state.policies.filter { $0.value.integrationID != id }
            user.name += "#\(id)"
            // Switched off for good: a create that read the integration before the delete and
            // inserts after it makes a key that cannot be used.
            user.disabledAt = user.disabledAt ?? at.wholeSeconds
            user.disabledByAdmin = true
            state.users[id] = user
            state.append(audit)
        }
    }

    public func setDisabled(userID: Int64, at: Date?, byAdmin: Bool, audit: AuditEvent) async throws -> Bool {
        defer { changes.publish(.user(userID)) }
        return state.withLockedValue { state in
            guard var user = state.users[userID] else { return false }
            user.disabledAt = at?.wholeSeconds
            user.disabledByAdmin = at != nil && byAdmin
            state.users[userID] = user
            state.append(audit)
            return true
        }
    }

    public func setTeamDisabled(_ team: String, at: Date?, byAdmin: Bool, audit: AuditEvent) async throws -> Bool {
        defer { changes.publish(.everything) }
        return state.withLockedValue { state in
            guard state.teams[team] != nil else { return false }
            state.disabledTeams[team] = at.map { ($0.wholeSeconds, byAdmin) }
            state.append(audit)
            return true
        }
    }

    public func disabledTeams() async throws -> [String: Bool] { state.withLockedValue { $0.disabledTeams.mapValues(\.byAdmin) } }

    // MARK: Key updates and quotas

    public func update(_ key: KeyRecord, resetQuota: Bool, audit: AuditEvent) async throws -> KeyRecord? {
        defer { changes.publish(.key(key.keyID)) }
        return state.withLockedValue { state in
            guard var stored = state.keys[key.keyID], stored.revokedAt == nil else { return nil }
            stored.name = key.name
            stored.scopes = key.scopes
            stored.expiresAt = key.expiresAt?.wholeSeconds
            stored.rateLimit = key.rateLimit
            stored.quota = key.quota.map { Quota(limit: $0.limit, period: $0.period) }
            if stored.quota == nil { stored.quotaKey = nil }
            state.keys[key.keyID] = stored
            if resetQuota || key.quota == nil { state.quotaCounts[stored.quotaKey ?? key.keyID] = nil }
            state.append(audit)
            return state.read(state.keys[key.keyID]!)
        }
    }

    public func consumeQuota(keyID: String, now: Date) async throws -> QuotaUse {
        state.withLockedValue { state in
            guard let key = state.keys[keyID], let quota = key.quota else { return .unlimited }
            let counterID = key.quotaKey ?? keyID
            let counter = state.quotaCounts[counterID] ?? (used: 0, window: nil)
            let window = quota.period.windowStart(now)
            let used = window == counter.window ? counter.used : 0
            guard used < quota.limit else { return .exceeded }
            state.quotaCounts[counterID] = (used: used + 1, window: window)
            return .allowed(used: used + 1)
        }
    }

    // MARK: Trust policies

    public func createPolicy(_ policy: TrustPolicy, audit: AuditEvent) async throws {
        try state.withLockedValue { state in
            guard state.policies[policy.name] == nil else { throw StorageError.duplicate("policy \(policy.name)") }
            var policy = policy
            policy.createdAt = policy.createdAt.wholeSeconds
            state.policies[policy.name] = policy
            state.append(audit)
        }
    }

    public func policies() async throws -> [TrustPolicy] {
        state.withLockedValue { state in
            state.policies.values.sorted { $0.name < $1.name }.map { policy in
                var policy = policy
                policy.integration = state.users[policy.integrationID]?.name ?? policy.integration
                return policy
            }
        }
    }

    public func deletePolicy(name: String, audit: AuditEvent) async throws -> TrustPolicy? {
        state.withLockedValue { state in
            guard let policy = state.policies.removeValue(forKey: name) else { return nil }
            state.append(audit)
            return policy
        }
    }

    public func claimTokenID(issuer: String, jti: String, expiresAt: Date, now: Date) async throws -> Bool {
        state.withLockedValue { state in
            state.tokenIDs = state.tokenIDs.filter { $0.value >= now }
            let id = issuer + "\u{0}" + jti
            guard state.tokenIDs[id] == nil else { return false }
            state.tokenIDs[id] = expiresAt
            return true
        }
    }
}
