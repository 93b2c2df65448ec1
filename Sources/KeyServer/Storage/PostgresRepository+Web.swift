import Foundation
import PostgresNIO

/// Sessions, passwords and device grants, in PostgreSQL.
extension PostgresRepository {
    static let v4: [String] = [
        """
        CREATE TABLE web_sessions (
            id TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id), csrf TEXT NOT NULL,
            created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
        """,
        "CREATE INDEX web_sessions_user ON web_sessions(user_id)",
        """
        CREATE TABLE device_grants (
            device_code_hash BYTEA PRIMARY KEY, user_code_hash BYTEA NOT NULL UNIQUE, machine TEXT NOT NULL, scopes TEXT NOT NULL,
            created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, poll_interval BIGINT NOT NULL, last_polled_at BIGINT,
            status TEXT NOT NULL, user_id BIGINT, sealed_key BYTEA, key_id TEXT, requested_from TEXT)
        """,
        "CREATE INDEX device_grants_expiry ON device_grants(expires_at)",
    ]

    public func createSession(_ session: WebSession) async throws {
        try await run { call in
            try await call.transaction { db in
                try await db.execute("DELETE FROM web_sessions WHERE expires_at <= \(session.createdAt.epochSeconds)")
                try await db.execute("""
                    INSERT INTO web_sessions (id, user_id, csrf, created_at, expires_at)
                    VALUES (\(session.id), \(session.userID), \(session.csrfToken), \(session.createdAt.epochSeconds), \(session.expiresAt.epochSeconds))
                    """)
            }
        }
    }

    public func session(id: String, now: Date) async throws -> (WebSession, User)? {
        try await run { call -> (WebSession, User)? in
            let rows = try await call.rows("""
                SELECT id, user_id, csrf, created_at, expires_at FROM web_sessions WHERE id = \(id) AND expires_at > \(now.epochSeconds)
                """)
            guard let row = rows.first else { return nil }
            let (sid, userID, csrf, created, expires) = try row.decode((String, Int64, String, Int64, Int64).self)
            guard var user = try await call.rows("\(unescaped: Self.userSelect) WHERE u.id = \(userID)").first.map(Self.decodeUser) else { return nil }
            user.passwordHash = nil
            return (WebSession(id: sid, userID: userID, csrfToken: csrf, createdAt: Self.date(created), expiresAt: Self.date(expires)), user)
        }
    }

    public func deleteSession(id: String) async throws {
        try await run { call in try await call.execute("DELETE FROM web_sessions WHERE id = \(id)") }
    }

    public func deleteSessions(userID: Int64) async throws {
        try await run { call in try await call.execute("DELETE FROM web_sessions WHERE user_id = \(userID)") }
    }

    public func setPassword(userID: Int64, hash: String, audit: AuditEvent) async throws {
        try await run { call in
            try await call.transaction { db in
                let changed = try await db.rows("UPDATE users SET password_hash = \(hash) WHERE id = \(userID) RETURNING id")
                guard !changed.isEmpty else { throw StorageError.missing("user \(userID)") }
                try await db.execute("DELETE FROM web_sessions WHERE user_id = \(userID)")
                try await Self.append(audit, db)
            }
        }
    }

    public func createDeviceGrant(_ grant: DeviceGrant) async throws {
        try await run(duplicate: "user code") { call in
            try await call.transaction { db in
                try await db.execute("DELETE FROM device_grants WHERE expires_at < \(grant.createdAt.epochSeconds - 86_400)")
                try await db.execute("""
                    INSERT INTO device_grants (device_code_hash, user_code_hash, machine, scopes, created_at, expires_at, poll_interval, status,
                                               requested_from)
                    VALUES (\(grant.deviceCodeHash), \(grant.userCodeHash), \(grant.machine), \(Scope.encode(grant.scopes)),
                            \(grant.createdAt.epochSeconds), \(grant.expiresAt.epochSeconds), \(Int64(grant.interval)), \(grant.status.rawValue),
                            \(grant.requestedFrom))
                    """)
            }
        }
    }

    static let grantSelect = """
        SELECT device_code_hash, user_code_hash, machine, scopes, created_at, expires_at, poll_interval, last_polled_at, status,
               user_id, sealed_key, key_id, requested_from
        FROM device_grants
        """

    static func decodeGrant(_ row: PostgresRow) throws -> DeviceGrant {
        let cells = row.makeRandomAccess()
        return DeviceGrant(deviceCodeHash: try cells["device_code_hash"].decode(Data.self), userCodeHash: try cells["user_code_hash"].decode(Data.self),
                           machine: try cells["machine"].decode(String.self), scopes: Scope.decode(try cells["scopes"].decode(String.self)),
                           createdAt: date(try cells["created_at"].decode(Int64.self)), expiresAt: date(try cells["expires_at"].decode(Int64.self)),
                           interval: Int(try cells["poll_interval"].decode(Int64.self)),
                           lastPolledAt: try cells["last_polled_at"].decode(Int64?.self).map(date),
                           status: DeviceStatus(rawValue: try cells["status"].decode(String.self)) ?? .denied,
                           userID: try cells["user_id"].decode(Int64?.self), sealedKey: try cells["sealed_key"].decode(Data?.self),
                           keyID: try cells["key_id"].decode(String?.self), requestedFrom: try cells["requested_from"].decode(String?.self))
    }

    public func deviceGrant(userCodeHash: Data) async throws -> DeviceGrant? {
        try await run { call in try await call.rows("\(unescaped: Self.grantSelect) WHERE user_code_hash = \(userCodeHash)").first.map(Self.decodeGrant) }
    }

    public func deviceGrant(deviceCodeHash: Data) async throws -> DeviceGrant? {
        try await run { call in try await call.rows("\(unescaped: Self.grantSelect) WHERE device_code_hash = \(deviceCodeHash)").first.map(Self.decodeGrant) }
    }

    public func polled(deviceCodeHash: Data, at: Date, interval: Int) async throws {
        try await run { call in
            try await call.execute("""
                UPDATE device_grants SET last_polled_at = \(at.epochSeconds), poll_interval = \(Int64(interval)) WHERE device_code_hash = \(deviceCodeHash)
                """)
        }
    }

    public func resolve(_ grant: DeviceGrant, key: KeyRecord?, audit: AuditEvent) async throws -> Bool {
        try await run { call in
            try await call.transaction { db -> Bool in
                let changed = try await db.rows("""
                    UPDATE device_grants SET status = \(grant.status.rawValue), user_id = \(grant.userID), sealed_key = \(grant.sealedKey),
                        key_id = \(grant.keyID)
                    WHERE device_code_hash = \(grant.deviceCodeHash) AND status = 'pending' RETURNING status
                    """)
                guard !changed.isEmpty else { return false }
                if let key { try await Self.insert(key, db) }
                try await Self.append(audit, db)
                return true
            }
        }
    }

    public func deliver(deviceCodeHash: Data) async throws -> DeviceGrant? {
        try await run { call in
            try await call.transaction { db -> DeviceGrant? in
                guard let grant = try await db.rows("""
                    \(unescaped: Self.grantSelect) WHERE device_code_hash = \(deviceCodeHash) AND status = 'approved' AND sealed_key IS NOT NULL
                    FOR UPDATE
                    """).first.map(Self.decodeGrant) else { return nil }
                try await db.execute("UPDATE device_grants SET status = 'delivered', sealed_key = NULL WHERE device_code_hash = \(deviceCodeHash)")
                return grant
            }
        }
    }
}
