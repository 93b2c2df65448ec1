import Foundation
import PostgresNIO

/// Integrations, roles, kill switches, key updates, quotas and trust policies, in PostgreSQL.
extension PostgresRepository {
    /// Runs a transaction that changes what cached keys may do: when it applied (`body` says so),
    /// every replica hears `change` (NOTIFY in the same transaction), and this one waits for the
    /// echo, as revocation does.
    func changing<T: Sendable>(_ change: ChangeFeed.Change, duplicate: String? = nil,
                               _ body: @escaping @Sendable (Session) async throws -> (T, applied: Bool)) async throws -> T {
        let token = UUID().uuidString
        let payload = PostgresChangeListener.payload(change, token: token)
        changes.expectEcho(token)
        let outcome: (T, applied: Bool)
        do {
            outcome = try await run(duplicate: duplicate) { call in
                try await call.transaction { db in
                    let outcome = try await body(db)
                    if outcome.applied { try await Self.notify(payload, db) }
                    return outcome
                }
            }
        } catch {
            await published(change, token: token, notified: false)
            throw error
        }
        await published(change, token: token, notified: outcome.applied)
        return outcome.0
    }

    public func setTeamRole(userID: Int64, team: String, role: TeamRole) async throws {
        try await changing(.user(userID)) { db in
            guard try await !db.rows("SELECT 1 FROM users WHERE id = \(userID)").isEmpty else { throw StorageError.missing("user \(userID)") }
            guard try await !db.rows("SELECT 1 FROM teams WHERE name = \(team)").isEmpty else { throw StorageError.missing("team \(team)") }
            try await db.execute("""
                INSERT INTO memberships (user_id, team, role) VALUES (\(userID), \(team), \(role.rawValue))
                ON CONFLICT (user_id, team) DO UPDATE SET role = excluded.role
                """)
            return ((), applied: true)
        }
    }

    public func createIntegration(team: String, name: String, scopes: Set<Scope>, rateLimit: RateLimitPolicy?, by: String, at: Date,
                                  audit: AuditEvent) async throws -> User {
        let fullName = "\(team)/\(name)"
        return try await run(duplicate: "integration \(fullName)") { call in
            try await call.transaction { db in
                let inserted = try await db.rows("""
                    INSERT INTO users (name, password_hash, is_admin, created_at, kind, allowed_scopes, rate_limit, created_by)
                    VALUES (\(fullName), NULL, FALSE, \(at.epochSeconds), 'integration', \(Scope.encode(scopes)), \(rateLimit?.stored), \(by))
                    RETURNING id
                    """)
                guard let id = try inserted.first?.decode(Int64.self) else { throw UnexpectedResult(statement: "INSERT INTO users") }
                try await db.execute("INSERT INTO memberships (user_id, team) VALUES (\(id), \(team))")
                try await Self.append(audit, db)
                guard let user = try await db.rows("\(unescaped: Self.userSelect) WHERE u.id = \(id)").first.map(Self.decodeUser) else {
                    throw UnexpectedResult(statement: "SELECT users")
                }
                return user
            }
        }
    }

    public func integrations(team: String?) async throws -> [User] {
        try await run { call in
            if let team {
                return try await call.rows("""
                    \(unescaped: Self.userSelect) WHERE u.kind = 'integration' AND strpos(u.name, '#') = 0
                      AND starts_with(u.name, \(team + "/")) ORDER BY u.name
                    """).map(Self.decodeUser)
            }
            return try await call.rows("""
                \(unescaped: Self.userSelect) WHERE u.kind = 'integration' AND strpos(u.name, '#') = 0 ORDER BY u.name
                """).map(Self.decodeUser)
        }
    }

    public func deleteIntegration(id: Int64, at: Date, by: String, audit: AuditEvent) async throws {
        try await changing(.user(id)) { db in
            try await db.execute("""
                UPDATE api_keys SET revoked_at = \(at.epochSeconds), revoked_by = \(by), revoke_reason = 'integration deleted'
                WHERE owner_id = \(id) AND revoked_at IS NULL
                """)
            try await db.execute("DELETE FROM oidc_policies WHERE integration_id = \(id)")
            // Switched off for good too: a create that read the integration before this and inserts
            // after it makes a key that cannot be used.
            try await db.execute("""
                UPDATE users SET name = name || '#' || id::text, disabled_at = COALESCE(disabled_at, \(at.epochSeconds)),
                    disabled_by_admin = TRUE
                WHERE id = \(id) AND kind = 'integration'
                """)
            try await Self.append(audit, db)
            return ((), applied: true)
        }
    }

    public func setDisabled(userID: Int64, at: Date?, byAdmin: Bool, audit: AuditEvent) async throws -> Bool {
        try await changing(.user(userID)) { db in
            let changed = try await db.rows("""
                UPDATE users SET disabled_at = \(at?.epochSeconds), disabled_by_admin = \(at != nil && byAdmin) WHERE id = \(userID) RETURNING id
                """)
            guard !changed.isEmpty else { return (false, applied: false) }
            try await Self.append(audit, db)
            return (true, applied: true)
        }
    }

    public func setTeamDisabled(_ team: String, at: Date?, byAdmin: Bool, audit: AuditEvent) async throws -> Bool {
        // Cached keys carry their team's flag: every replica forgets everything (a rare, deliberate act).
        try await changing(.everything) { db in
            let changed = try await db.rows("""
                UPDATE teams SET disabled_at = \(at?.epochSeconds), disabled_by_admin = \(at != nil && byAdmin) WHERE name = \(team) RETURNING name
                """)
            guard !changed.isEmpty else { return (false, applied: false) }
            try await Self.append(audit, db)
            return (true, applied: true)
        }
    }

    public func disabledTeams() async throws -> [String: Bool] {
        try await run { call in
            try await call.rows("SELECT name, disabled_by_admin FROM teams WHERE disabled_at IS NOT NULL").reduce(into: [:]) { teams, row in
                let (name, byAdmin) = try row.decode((String, Bool).self)
                teams[name] = byAdmin
            }
        }
    }

    // MARK: Key updates and quotas

    public func update(_ key: KeyRecord, resetQuota: Bool, audit: AuditEvent) async throws -> KeyRecord? {
        let reset = resetQuota || key.quota == nil
        return try await changing(.key(key.keyID)) { db in
            let changed = try await db.rows("""
                UPDATE api_keys SET name = \(key.name), scopes = \(Scope.encode(key.scopes)), expires_at = \(key.expiresAt?.epochSeconds),
                    rate_limit = \(key.rateLimit?.stored), quota_limit = \(key.quota?.limit), quota_period = \(key.quota?.period.rawValue)
                WHERE key_id = \(key.keyID) AND revoked_at IS NULL RETURNING COALESCE(quota_key, key_id)
                """)
            guard let counter = try changed.first?.decode(String.self) else { return (nil, applied: false) }
            if reset {
                // The count lives on the quota key: the reset is for every key sharing it.
                try await db.execute("UPDATE api_keys SET quota_used = 0, quota_window = NULL WHERE key_id = \(counter)")
            }
            try await Self.append(audit, db)
            return (try await Self.key(key.keyID, db), applied: true)
        }
    }

    public func consumeQuota(keyID: String, now: Date) async throws -> QuotaUse {
        try await run { call in
            try await call.transaction { db -> QuotaUse in
                // The row lock makes read-then-write one step for every replica.
                let rows = try await db.rows("""
                    SELECT quota_limit, quota_period, COALESCE(quota_key, key_id) FROM api_keys WHERE key_id = \(keyID)
                    """)
                guard let row = rows.first else { return .unlimited }
                let (limit, periodText, counter) = try row.decode((Int64?, String?, String).self)
                guard let limit, let period = periodText.flatMap(QuotaPeriod.init(rawValue:)) else { return .unlimited }
                // The counter's row lock makes read-then-write one step for every replica and every key sharing it.
                let counts = try await db.rows("SELECT quota_used, quota_window FROM api_keys WHERE key_id = \(counter) FOR UPDATE")
                guard let (stored, windowSeconds) = try counts.first?.decode((Int64, Int64?).self) else { return .unlimited }
                let window = period.windowStart(now)
                let used = window?.epochSeconds == windowSeconds ? stored : 0
                guard used < limit else { return .exceeded }
                try await db.execute("""
                    UPDATE api_keys SET quota_used = \(used + 1), quota_window = \(window?.epochSeconds) WHERE key_id = \(counter)
                    """)
                return .allowed(used: used + 1)
            }
        }
    }

    // MARK: Trust policies

    public func createPolicy(_ policy: TrustPolicy, audit: AuditEvent) async throws {
        try await run(duplicate: "policy \(policy.name)") { call in
            try await call.transaction { db in
                try await db.execute("""
                    INSERT INTO oidc_policies (name, issuer, audience, claims, integration_id, scopes, lifetime, created_by, created_at)
                    VALUES (\(policy.name), \(policy.issuer), \(policy.audience), \(policy.claimsJSON), \(policy.integrationID),
                            \(Scope.encode(policy.scopes)), \(Int64(policy.lifetimeSeconds)), \(policy.createdBy), \(policy.createdAt.epochSeconds))
                    """)
                try await Self.append(audit, db)
            }
        }
    }

    static let policySelect = """
        SELECT p.name, p.issuer, p.audience, p.claims, p.integration_id, u.name AS integration, p.scopes, p.lifetime,
               p.created_by, p.created_at
        FROM oidc_policies p JOIN users u ON u.id = p.integration_id
        """

    static func decodePolicy(_ row: PostgresRow) throws -> TrustPolicy {
        let (name, issuer, audience, claims, integrationID, integration, scopes, lifetime, createdBy, createdAt) =
            try row.decode((String, String, String, String, Int64, String, String, Int64, String, Int64).self)
        return TrustPolicy(name: name, issuer: issuer, audience: audience, claims: TrustPolicy.claims(claims), integrationID: integrationID,
                           integration: integration, scopes: Scope.decode(scopes), lifetimeSeconds: Int(lifetime), createdBy: createdBy,
                           createdAt: date(createdAt))
    }

    public func policies() async throws -> [TrustPolicy] {
        try await run { call in try await call.rows("\(unescaped: Self.policySelect) ORDER BY p.name").map(Self.decodePolicy) }
    }

    public func deletePolicy(name: String, audit: AuditEvent) async throws -> TrustPolicy? {
        try await run { call in
            try await call.transaction { db -> TrustPolicy? in
                guard let policy = try await db.rows("\(unescaped: Self.policySelect) WHERE p.name = \(name) FOR UPDATE OF p").first
                    .map(Self.decodePolicy) else { return nil }
                try await db.execute("DELETE FROM oidc_policies WHERE name = \(name)")
                try await Self.append(audit, db)
                return policy
            }
        }
    }

    public func claimTokenID(issuer: String, jti: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await run { call in
            try await call.transaction { db -> Bool in
                try await db.execute("DELETE FROM oidc_token_ids WHERE expires_at < \(now.epochSeconds)")
                let inserted = try await db.rows("""
                    INSERT INTO oidc_token_ids (issuer, jti, expires_at) VALUES (\(issuer), \(jti), \(expiresAt.epochSeconds))
                    ON CONFLICT DO NOTHING RETURNING jti
                    """)
                return !inserted.isEmpty
            }
        }
    }
}
