import Foundation
import GRDB

/// Sessions, passwords and device grants, in SQLite.
extension SQLiteRepository {
    static let v4 = """
        CREATE TABLE web_sessions (
            id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), csrf TEXT NOT NULL,
            created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
        CREATE INDEX web_sessions_user ON web_sessions(user_id);
        CREATE TABLE device_grants (
            device_code_hash BLOB PRIMARY KEY, user_code_hash BLOB NOT NULL UNIQUE, machine TEXT NOT NULL, scopes TEXT NOT NULL,
            created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, poll_interval INTEGER NOT NULL, last_polled_at INTEGER,
            status TEXT NOT NULL, user_id INTEGER, sealed_key BLOB, key_id TEXT, requested_from TEXT);
        CREATE INDEX device_grants_expiry ON device_grants(expires_at);
        """

    public func createSession(_ session: WebSession) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM web_sessions WHERE expires_at <= ?", arguments: [Self.seconds(session.createdAt)])
            try db.execute(sql: "INSERT INTO web_sessions (id, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [session.id, session.userID, session.csrfToken, Self.seconds(session.createdAt),
                                       Self.seconds(session.expiresAt)])
        }
    }

    public func session(id: String, now: Date) async throws -> (WebSession, User)? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM web_sessions WHERE id = ? AND expires_at > ?",
                                             arguments: [id, Self.seconds(now)]) else { return nil }
            let session = WebSession(id: row["id"], userID: row["user_id"], csrfToken: row["csrf"], createdAt: Self.date(row["created_at"]),
                                     expiresAt: Self.date(row["expires_at"]))
            guard var user = try Self.fetchUsers(db, where: "id = ?", [session.userID]).first else { return nil }
            user.passwordHash = nil
            return (session, user)
        }
    }

    public func deleteSession(id: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM web_sessions WHERE id = ?", arguments: [id]) }
    }

    public func deleteSessions(userID: Int64) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM web_sessions WHERE user_id = ?", arguments: [userID]) }
    }

    public func setPassword(userID: Int64, hash: String, audit: AuditEvent) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET password_hash = ? WHERE id = ?", arguments: [hash, userID])
            guard db.changesCount == 1 else { throw StorageError.missing("user \(userID)") }
            try db.execute(sql: "DELETE FROM web_sessions WHERE user_id = ?", arguments: [userID])
            try Self.append(audit, db)
        }
    }

    public func createDeviceGrant(_ grant: DeviceGrant) async throws {
        try await Self.unique("user code") { try await pool.write { db in
            try db.execute(sql: "DELETE FROM device_grants WHERE expires_at < ?", arguments: [Self.seconds(grant.createdAt) - 86_400])
            try db.execute(sql: """
                INSERT INTO device_grants (device_code_hash, user_code_hash, machine, scopes, created_at, expires_at, poll_interval, status,
                                           requested_from)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [grant.deviceCodeHash, grant.userCodeHash, grant.machine, Scope.encode(grant.scopes),
                                 Self.seconds(grant.createdAt), Self.seconds(grant.expiresAt), grant.interval, grant.status.rawValue,
                                 grant.requestedFrom])
        } }
    }

    static func grant(_ row: Row) -> DeviceGrant {
        DeviceGrant(deviceCodeHash: row["device_code_hash"], userCodeHash: row["user_code_hash"], machine: row["machine"],
                    scopes: Scope.decode(row["scopes"]), createdAt: date(row["created_at"]), expiresAt: date(row["expires_at"]),
                    interval: row["poll_interval"], lastPolledAt: optionalDate(row["last_polled_at"]),
                    status: DeviceStatus(rawValue: row["status"]) ?? .denied, userID: row["user_id"], sealedKey: row["sealed_key"],
                    keyID: row["key_id"], requestedFrom: row["requested_from"])
    }

    public func deviceGrant(userCodeHash: Data) async throws -> DeviceGrant? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM device_grants WHERE user_code_hash = ?", arguments: [userCodeHash]).map(Self.grant)
        }
    }

    public func deviceGrant(deviceCodeHash: Data) async throws -> DeviceGrant? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM device_grants WHERE device_code_hash = ?", arguments: [deviceCodeHash]).map(Self.grant)
        }
    }

    public func polled(deviceCodeHash: Data, at: Date, interval: Int) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE device_grants SET last_polled_at = ?, poll_interval = ? WHERE device_code_hash = ?",
                           arguments: [Self.seconds(at), interval, deviceCodeHash])
        }
    }

    public func resolve(_ grant: DeviceGrant, key: KeyRecord?, audit: AuditEvent) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE device_grants SET status = ?, user_id = ?, sealed_key = ?, key_id = ? WHERE device_code_hash = ? AND status = 'pending'
                """, arguments: [grant.status.rawValue, grant.userID, grant.sealedKey, grant.keyID, grant.deviceCodeHash])
            guard db.changesCount == 1 else { return false }
            if let key { try Self.insert(key, db) }
            try Self.append(audit, db)
            return true
        }
    }

    public func deliver(deviceCodeHash: Data) async throws -> DeviceGrant? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT * FROM device_grants WHERE device_code_hash = ? AND status = 'approved' AND sealed_key IS NOT NULL
                """, arguments: [deviceCodeHash]) else { return nil }
            try db.execute(sql: "UPDATE device_grants SET status = 'delivered', sealed_key = NULL WHERE device_code_hash = ?",
                           arguments: [deviceCodeHash])
            return Self.grant(row)
        }
    }
}
