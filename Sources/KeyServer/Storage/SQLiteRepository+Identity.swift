import Foundation
import GRDB

/// Integrations, roles, kill switches, key updates, quotas and trust policies, in SQLite.
extension SQLiteRepository {
    public func setTeamRole(userID: Int64, team: String, role: TeamRole) async throws {
        defer { changes.publish(.user(userID)) }
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [userID]) ?? false else {
                throw StorageError.missing("user \(userID)")
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM teams WHERE name = ?", arguments: [team]) ?? false else {
                throw StorageError.missing("team \(team)")
            }
            try db.execute(sql: """
                INSERT INTO memberships (user_id, team, role) VALUES (?, ?, ?)
                ON CONFLICT (user_id, team) DO UPDATE SET role = excluded.role
                """, arguments: [userID, team, role.rawValue])
        }
    }

    public func createIntegration(team: String, name: String, scopes: Set<Scope>, rateLimit: RateLimitPolicy?, by: String, at: Date,
                                  audit: AuditEvent) async throws -> User {
        let fullName = "\(team)/\(name)"
        return try await Self.unique("integration \(fullName)") { try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO users (name, password_hash, is_admin, created_at, kind, allowed_scopes, rate_limit, created_by)
                VALUES (?, NULL, 0, ?, 'integration', ?, ?, ?)
                """, arguments: [fullName, Self.seconds(at), Scope.encode(scopes), rateLimit?.stored, by])
            let id = db.lastInsertedRowID
            try db.execute(sql: "INSERT INTO memberships (user_id, team) VALUES (?, ?)", arguments: [id, team])
            try Self.append(audit, db)
            return try Self.fetchUsers(db, where: "id = ?", [id])[0]
        } }
    }

    public func integrations(team: String?) async throws -> [User] {
        try await pool.read { db in
            if let team {
                return try Self.fetchUsers(db, where: "kind = 'integration' AND instr(name, '#') = 0 AND name LIKE ? ESCAPE '\\'",
                                           [Self.likePrefix(team)])
            }
            return try Self.fetchUsers(db, where: "kind = 'integration' AND instr(name, '#') = 0", [])
        }
    }

    /// `team/` as a LIKE prefix, its own `%` and `_` escaped.
    static func likePrefix(_ team: String) -> String {
        team.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "/%"
    }

    public func deleteIntegration(id: Int64, at: Date, by: String, audit: AuditEvent) async throws {
        defer { changes.publish(.user(id)) }
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE api_keys SET revoked_at = ?, revoked_by = ?, revoke_reason = 'integration deleted'
                WHERE owner_id = ? AND revoked_at IS NULL
                """, arguments: [Self.seconds(at), by, id])
            try db.execute(sql: "DELETE FROM oidc_policies WHERE integration_id = ?", arguments: [id])
            // Switched off for good too: a create that read the integration before this and inserts
            // after it makes a key that cannot be used.
            try db.execute(sql: """
                UPDATE users SET name = name || '#' || id, disabled_at = COALESCE(disabled_at, ?), disabled_by_admin = 1
                WHERE id = ? AND kind = 'integration'
                """, arguments: [Self.seconds(at), id])
            try Self.append(audit, db)
        }
    }

    public func setDisabled(userID: Int64, at: Date?, byAdmin: Bool, audit: AuditEvent) async throws -> Bool {
        defer { changes.publish(.user(userID)) }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE users SET disabled_at = ?, disabled_by_admin = ? WHERE id = ?",
                           arguments: [at.map(Self.seconds), at != nil && byAdmin, userID])
            guard db.changesCount == 1 else { return false }
            try Self.append(audit, db)
            return true
        }
    }

    public func setTeamDisabled(_ team: String, at: Date?, byAdmin: Bool, audit: AuditEvent) async throws -> Bool {
        // Cached keys carry their team's flag: every cache forgets everything (a rare, deliberate act).
        defer { changes.publish(.everything) }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE teams SET disabled_at = ?, disabled_by_admin = ? WHERE name = ?",
                           arguments: [at.map(Self.seconds), at != nil && byAdmin, team])
            guard db.changesCount == 1 else { return false }
            try Self.append(audit, db)
            return true
        }
    }

    public func disabledTeams() async throws -> [String: Bool] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, disabled_by_admin FROM teams WHERE disabled_at IS NOT NULL").reduce(into: [:]) {
                $0[$1["name"]] = $1["disabled_by_admin"] as Bool
            }
        }
    }

    // MARK: Key updates and quotas

    public func update(_ key: KeyRecord, resetQuota: Bool, audit: AuditEvent) async throws -> KeyRecord? {
        defer { changes.publish(.key(key.keyID)) }
        return try await pool.write { db in
            try db.execute(sql: """
                UPDATE api_keys SET name = ?, scopes = ?, expires_at = ?, rate_limit = ?, quota_limit = ?, quota_period = ?
                WHERE key_id = ? AND revoked_at IS NULL
                """, arguments: [key.name, Scope.encode(key.scopes), key.expiresAt.map(Self.seconds), key.rateLimit?.stored,
                                 key.quota?.limit, key.quota?.period.rawValue, key.keyID])
            guard db.changesCount == 1 else { return nil }
            if resetQuota || key.quota == nil {
                // The count lives on the quota key: the reset is for every key sharing it.
                try db.execute(sql: """
                    UPDATE api_keys SET quota_used = 0, quota_window = NULL
                    WHERE key_id = COALESCE((SELECT quota_key FROM api_keys WHERE key_id = ?), ?)
                    """, arguments: [key.keyID, key.keyID])
            }
            try Self.append(audit, db)
            return try Row.fetchOne(db, sql: "SELECT \(Self.keyColumns) FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.key_id = ?",
                                    arguments: [key.keyID]).map(Self.keyRecord)
        }
    }

    public func consumeQuota(keyID: String, now: Date) async throws -> QuotaUse {
        // One writer at a time: the read and the update below are one step for every replica of this file.
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                    SELECT k.quota_limit, k.quota_period, COALESCE(k.quota_key, k.key_id) AS counter,
                           c.quota_used AS quota_count, c.quota_window AS quota_count_window
                    FROM api_keys k JOIN api_keys c ON c.key_id = COALESCE(k.quota_key, k.key_id) WHERE k.key_id = ?
                    """, arguments: [keyID]),
                  let quota = Self.quota(row) else { return .unlimited }
            let counter: String = row["counter"]
            let window = quota.period.windowStart(now)
            let used = window == quota.windowStart ? quota.used : 0
            guard used < quota.limit else { return .exceeded }
            try db.execute(sql: "UPDATE api_keys SET quota_used = ?, quota_window = ? WHERE key_id = ?",
                           arguments: [used + 1, window.map(Self.seconds), counter])
            return .allowed(used: used + 1)
        }
    }

    // MARK: Trust policies

    public func createPolicy(_ policy: TrustPolicy, audit: AuditEvent) async throws {
        try await Self.unique("policy \(policy.name)") { try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO oidc_policies (name, issuer, audience, claims, integration_id, scopes, lifetime, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [policy.name, policy.issuer, policy.audience, policy.claimsJSON, policy.integrationID,
                                 Scope.encode(policy.scopes), policy.lifetimeSeconds, policy.createdBy, Self.seconds(policy.createdAt)])
            try Self.append(audit, db)
        } }
    }

    public func policies() async throws -> [TrustPolicy] {
        try await pool.read { db in try Self.fetchPolicies(db, where: "1 = 1", []) }
    }

    static func fetchPolicies(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [TrustPolicy] {
        try Row.fetchAll(db, sql: """
            SELECT p.*, u.name AS integration FROM oidc_policies p JOIN users u ON u.id = p.integration_id
            WHERE \(condition) ORDER BY p.name
            """, arguments: arguments).map { row in
            TrustPolicy(name: row["name"], issuer: row["issuer"], audience: row["audience"], claims: TrustPolicy.claims(row["claims"]),
                        integrationID: row["integration_id"], integration: row["integration"], scopes: Scope.decode(row["scopes"]),
                        lifetimeSeconds: row["lifetime"], createdBy: row["created_by"], createdAt: date(row["created_at"]))
        }
    }

    public func deletePolicy(name: String, audit: AuditEvent) async throws -> TrustPolicy? {
        try await pool.write { db in
            guard let policy = try Self.fetchPolicies(db, where: "p.name = ?", [name]).first else { return nil }
            try db.execute(sql: "DELETE FROM oidc_policies WHERE name = ?", arguments: [name])
            try Self.append(audit, db)
            return policy
        }
    }

    public func claimTokenID(issuer: String, jti: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM oidc_token_ids WHERE expires_at < ?", arguments: [Self.seconds(now)])
            try db.execute(sql: "INSERT INTO oidc_token_ids (issuer, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [issuer, jti, Self.seconds(expiresAt)])
            return db.changesCount == 1
        }
    }
}
