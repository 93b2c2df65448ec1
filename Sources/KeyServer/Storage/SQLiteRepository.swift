import Foundation
import GRDB

/// The embedded default: one SQLite file in WAL mode, through GRDB (a connection pool with
/// concurrent readers and one writer, and versioned migrations). Times are integer seconds and
/// scopes text, as in PostgreSQL's schema (`PostgresRepository`).
///
/// Every writer of the file is this process (the admin commands write only users, teams and new
/// keys, which no cache holds), so its change feed is always live and published in process.
public final class SQLiteRepository: KeyRepository {
    let pool: DatabasePool
    public let changes = ChangeFeed(live: true)

    public init(path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // 0600 before SQLite creates anything: its -wal and -shm files take the database's mode.
        do { try SecretFile.prepareDatabase(path) } catch let failure as SecretFile.Failure {
            throw ServerSecrets.Failure(message: failure.description)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE teams (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, password_hash TEXT,
                    is_admin INTEGER NOT NULL, created_at INTEGER NOT NULL);
                CREATE TABLE memberships (
                    user_id INTEGER NOT NULL REFERENCES users(id), team TEXT NOT NULL REFERENCES teams(name),
                    PRIMARY KEY (user_id, team));
                CREATE TABLE api_keys (
                    key_id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, name TEXT NOT NULL,
                    owner_id INTEGER NOT NULL REFERENCES users(id), team TEXT REFERENCES teams(name),
                    scopes TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, last_used_at INTEGER,
                    revoked_at INTEGER, revoked_by TEXT, revoke_reason TEXT,
                    rotated_from TEXT, rotated_to TEXT, grace_ends_at INTEGER);
                CREATE INDEX api_keys_owner ON api_keys(owner_id, key_id);
                CREATE INDEX api_keys_team ON api_keys(team, key_id);
                CREATE TABLE idempotency (
                    owner_id INTEGER NOT NULL, idempotency_key TEXT NOT NULL, request_hash BLOB NOT NULL,
                    key_id TEXT NOT NULL, sealed_key BLOB NOT NULL, created_at INTEGER NOT NULL,
                    PRIMARY KEY (owner_id, idempotency_key));
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, event TEXT NOT NULL, actor TEXT,
                    key_id TEXT, team TEXT, code TEXT, client TEXT, request_id TEXT);
                CREATE INDEX audit_key ON audit(key_id, id);
                CREATE TABLE projects (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, team TEXT NOT NULL REFERENCES teams(name),
                    name TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL);
                """)
        }
        migrator.registerMigration("v2") { db in
            // Idempotency records are keyed by the credential that made them (a narrower key of
            // the same user must not receive what a broader one minted). They live a day, so the
            // old table is dropped rather than converted. The audit says which credential acted,
            // what a change made (a rotation's new key, a new user), and counts repeated rejections.
            try db.execute(sql: """
                DROP TABLE idempotency;
                CREATE TABLE idempotency (
                    credential TEXT NOT NULL, idempotency_key TEXT NOT NULL, request_hash BLOB NOT NULL,
                    key_id TEXT NOT NULL, sealed_key BLOB NOT NULL, created_at INTEGER NOT NULL,
                    PRIMARY KEY (credential, idempotency_key));
                ALTER TABLE audit ADD COLUMN credential TEXT;
                ALTER TABLE audit ADD COLUMN target TEXT;
                ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
                """)
        }
        migrator.registerMigration("v3") { db in
            // Machine identities: integrations are users of kind 'integration'; team roles; kill
            // switches on users and teams; per-key limits and quotas; OIDC trust policies and the
            // token ids already exchanged.
            try db.execute(sql: Self.v3)
        }
        migrator.registerMigration("v4") { db in
            // Browser sessions and RFC 8628 device grants.
            try db.execute(sql: Self.v4)
        }
        return migrator
    }

    static let v3 = """
        ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
        ALTER TABLE users ADD COLUMN allowed_scopes TEXT;
        ALTER TABLE users ADD COLUMN rate_limit TEXT;
        ALTER TABLE users ADD COLUMN disabled_at INTEGER;
        ALTER TABLE users ADD COLUMN created_by TEXT;
        ALTER TABLE users ADD COLUMN disabled_by_admin INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE teams ADD COLUMN disabled_by_admin INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE api_keys ADD COLUMN quota_key TEXT;
        ALTER TABLE memberships ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
        ALTER TABLE teams ADD COLUMN disabled_at INTEGER;
        ALTER TABLE api_keys ADD COLUMN created_by TEXT;
        ALTER TABLE api_keys ADD COLUMN rate_limit TEXT;
        ALTER TABLE api_keys ADD COLUMN quota_limit INTEGER;
        ALTER TABLE api_keys ADD COLUMN quota_period TEXT;
        ALTER TABLE api_keys ADD COLUMN quota_used INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE api_keys ADD COLUMN quota_window INTEGER;
        CREATE TABLE oidc_policies (
            name TEXT PRIMARY KEY, issuer TEXT NOT NULL, audience TEXT NOT NULL, claims TEXT NOT NULL,
            integration_id INTEGER NOT NULL REFERENCES users(id), scopes TEXT NOT NULL, lifetime INTEGER NOT NULL,
            created_by TEXT NOT NULL, created_at INTEGER NOT NULL);
        ALTER TABLE audit ADD COLUMN reason TEXT;
        CREATE TABLE oidc_token_ids (
            issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (issuer, jti));
        """

    // MARK: Users and teams

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// A unique violation is `StorageError.duplicate`: the contract every backend keeps.
    static func unique<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw StorageError.duplicate(what)
        }
    }

    public func createTeam(_ name: String, at: Date) async throws {
        try await Self.unique("team \(name)") {
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO teams (name, created_at) VALUES (?, ?)", arguments: [name, Self.seconds(at)])
            }
        }
    }

    public func teamExists(_ name: String) async throws -> Bool {
        try await pool.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM teams WHERE name = ?", arguments: [name]) ?? false }
    }

    public func createUser(name: String, passwordHash: String?, isAdmin: Bool, teams: [String], at: Date) async throws -> User {
        try await Self.unique("user \(name)") { try await pool.write { db in
            try db.execute(sql: "INSERT INTO users (name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [name, passwordHash, isAdmin, Self.seconds(at)])
            let id = db.lastInsertedRowID
            for team in teams {
                try db.execute(sql: "INSERT INTO memberships (user_id, team) VALUES (?, ?)", arguments: [id, team])
            }
            return User(id: id, name: name, passwordHash: passwordHash, isAdmin: isAdmin, teams: teams.sorted(), createdAt: Self.date(Self.seconds(at)))
        } }
    }

    public func user(named name: String) async throws -> User? {
        try await pool.read { db in try Self.fetchUsers(db, where: "name = ?", [name]).first }
    }

    public func user(id: Int64) async throws -> User? {
        try await pool.read { db in try Self.fetchUsers(db, where: "id = ?", [id]).first }
    }

    public func users() async throws -> [User] {
        try await pool.read { db in try Self.fetchUsers(db, where: "1 = 1", []) }
    }

    public func adminExists() async throws -> Bool {
        try await pool.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE is_admin = 1") ?? false }
    }

    static func fetchUsers(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [User] {
        try Row.fetchAll(db, sql: "SELECT * FROM users WHERE \(condition) ORDER BY name", arguments: arguments).map { row in
            let id: Int64 = row["id"]
            let teams = try String.fetchAll(db, sql: "SELECT team FROM memberships WHERE user_id = ? ORDER BY team", arguments: [id])
            let adminTeams = try String.fetchAll(db, sql: "SELECT team FROM memberships WHERE user_id = ? AND role = 'admin' ORDER BY team",
                                                 arguments: [id])
            return User(id: id, name: row["name"], passwordHash: row["password_hash"], isAdmin: row["is_admin"],
                        teams: teams, createdAt: date(row["created_at"]), kind: OwnerKind(rawValue: row["kind"]) ?? .person,
                        adminTeams: adminTeams, allowedScopes: (row["allowed_scopes"] as String?).map(Scope.decode),
                        rateLimit: RateLimitPolicy.stored(row["rate_limit"]), disabledAt: optionalDate(row["disabled_at"]),
                        createdBy: row["created_by"], disabledByAdmin: row["disabled_by_admin"] ?? false)
        }
    }

    // MARK: Keys

    static let keyColumns = """
        k.*, u.name AS owner_name, u.kind AS owner_kind, u.disabled_at AS owner_disabled_at,
        (SELECT t.disabled_at FROM teams t WHERE t.name = k.team) AS team_disabled_at,
        (SELECT c.quota_used FROM api_keys c WHERE c.key_id = COALESCE(k.quota_key, k.key_id)) AS quota_count,
        (SELECT c.quota_window FROM api_keys c WHERE c.key_id = COALESCE(k.quota_key, k.key_id)) AS quota_count_window
        """

    public func insert(_ key: KeyRecord, audit: AuditEvent) async throws {
        try await pool.write { db in
            try Self.insert(key, db)
            try Self.append(audit, db)
        }
    }

    static func insert(_ key: KeyRecord, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO api_keys (key_id, secret_hash, name, owner_id, team, scopes, created_at, expires_at, rotated_from,
                                  created_by, rate_limit, quota_limit, quota_period, quota_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [key.keyID, key.secretHash, key.name, key.ownerID, key.team, Scope.encode(key.scopes),
                             seconds(key.createdAt), key.expiresAt.map(seconds), key.rotatedFrom,
                             key.createdBy, key.rateLimit?.stored, key.quota?.limit, key.quota?.period.rawValue, key.quotaKey])
    }

    public func key(id: String) async throws -> KeyRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.keyColumns) FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.key_id = ?",
                             arguments: [id]).map(Self.keyRecord)
        }
    }

    public func keyWithOwner(id: String) async throws -> (KeyRecord, User)? {
        try await pool.read { db in
            // A cached statement: this runs on every authenticated request.
            let statement = try db.cachedStatement(sql: """
                SELECT \(Self.keyColumns), u.is_admin AS owner_is_admin, u.created_at AS owner_created_at,
                       u.allowed_scopes AS owner_allowed_scopes, u.rate_limit AS owner_rate_limit, u.created_by AS owner_created_by,
                       (SELECT group_concat(m.team, ' ') FROM memberships m WHERE m.user_id = u.id) AS owner_teams,
                       (SELECT group_concat(m.team, ' ') FROM memberships m WHERE m.user_id = u.id AND m.role = 'admin') AS owner_admin_teams
                FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.key_id = ?
                """)
            guard let row = try Row.fetchOne(statement, arguments: [id]) else { return nil }
            let record = Self.keyRecord(row)
            let owner = User(id: record.ownerID, name: record.ownerName, passwordHash: nil, isAdmin: row["owner_is_admin"],
                             teams: Self.teamList(row["owner_teams"]), createdAt: Self.date(row["owner_created_at"]),
                             kind: record.ownerKind, adminTeams: Self.teamList(row["owner_admin_teams"]),
                             allowedScopes: (row["owner_allowed_scopes"] as String?).map(Scope.decode),
                             rateLimit: RateLimitPolicy.stored(row["owner_rate_limit"]),
                             disabledAt: Self.optionalDate(row["owner_disabled_at"]), createdBy: row["owner_created_by"])
            return (record, owner)
        }
    }

    public func keys(ownerID: Int64?, team: String?, after cursor: String?, limit: Int) async throws -> [KeyRecord] {
        try await pool.read { db in
            var conditions = ["k.key_id > ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [cursor ?? ""]
            if let ownerID { conditions.append("k.owner_id = ?"); arguments.append(ownerID) }
            if let team { conditions.append("k.team = ?"); arguments.append(team) }
            arguments.append(limit)
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.keyColumns) FROM api_keys k JOIN users u ON u.id = k.owner_id
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY k.key_id LIMIT ?
                """, arguments: StatementArguments(arguments)).map(Self.keyRecord)
        }
    }

    public func revoke(id: String, at: Date, by: String, reason: String?, audit: AuditEvent) async throws -> KeyRecord? {
        defer { changes.publish(.key(id)) }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE key_id = ? AND revoked_at IS NULL",
                           arguments: [Self.seconds(at), by, reason, id])
            if db.changesCount == 1 { try Self.append(audit, db) }
            return try Row.fetchOne(db, sql: "SELECT \(Self.keyColumns) FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.key_id = ?",
                                    arguments: [id]).map(Self.keyRecord)
        }
    }

    public func rotate(oldID: String, to new: KeyRecord, graceEndsAt: Date, now: Date, idempotency: IdempotencyRecord?,
                       audit: AuditEvent) async throws -> RotationOutcome {
        defer { changes.publish(.key(oldID)) }
        return try await pool.write { db in
            if let idempotency, let existing = try Self.idempotency(db, idempotency.credential, idempotency.idempotencyKey) {
                return .replay(existing)
            }
            // The condition decides a race inside the transaction: of two rotations, or a rotation
            // and a revocation, exactly one changes the row; the other finds it no longer active.
            try db.execute(sql: """
                UPDATE api_keys SET rotated_to = ?, grace_ends_at = ?
                WHERE key_id = ? AND rotated_to IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
                """, arguments: [new.keyID, graceEndsAt.epochSeconds, oldID, now.epochSeconds])
            guard db.changesCount == 1 else { return .notActive }
            try Self.insert(new, db)
            if let idempotency { try Self.insert(idempotency, db) }
            try Self.append(audit, db)
            return .rotated
        }
    }

    public func recordUse(_ lastUsed: [String: Date]) async throws {
        guard !lastUsed.isEmpty else { return }
        try await pool.write { db in
            for (id, at) in lastUsed {
                try db.execute(sql: "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE key_id = ?",
                               arguments: [Self.seconds(at), id])
            }
        }
    }

    static func keyRecord(_ row: Row) -> KeyRecord {
        KeyRecord(keyID: row["key_id"], secretHash: row["secret_hash"], name: row["name"], ownerID: row["owner_id"],
                  ownerName: row["owner_name"], team: row["team"], scopes: Scope.decode(row["scopes"]),
                  createdAt: date(row["created_at"]), expiresAt: optionalDate(row["expires_at"]),
                  lastUsedAt: optionalDate(row["last_used_at"]), revokedAt: optionalDate(row["revoked_at"]),
                  revokedBy: row["revoked_by"], revokeReason: row["revoke_reason"], rotatedFrom: row["rotated_from"],
                  rotatedTo: row["rotated_to"], graceEndsAt: optionalDate(row["grace_ends_at"]), createdBy: row["created_by"],
                  rateLimit: RateLimitPolicy.stored(row["rate_limit"]), quota: quota(row), quotaKey: row["quota_key"],
                  ownerKind: OwnerKind(rawValue: row["owner_kind"] ?? "") ?? .person,
                  ownerDisabled: (row["owner_disabled_at"] as Int64?) != nil, teamDisabled: (row["team_disabled_at"] as Int64?) != nil)
    }

    static func quota(_ row: Row) -> Quota? {
        guard let limit: Int64 = row["quota_limit"], let period = QuotaPeriod(rawValue: row["quota_period"] ?? "") else { return nil }
        // The count of the quota key (`quota_count`, read with the key), else the row's own.
        let used: Int64 = row["quota_count"] ?? row["quota_used"] ?? 0
        let window: Int64? = row.hasColumn("quota_count") ? row["quota_count_window"] : row["quota_window"]
        return Quota(limit: limit, period: period, used: used, windowStart: optionalDate(window))
    }

    static func teamList(_ text: String?) -> [String] { text?.split(separator: " ").map(String.init).sorted() ?? [] }

    // MARK: Idempotency

    public func idempotency(credential: String, key: String) async throws -> IdempotencyRecord? {
        try await pool.read { db in try Self.idempotency(db, credential, key) }
    }

    static func idempotency(_ db: Database, _ credential: String, _ key: String) throws -> IdempotencyRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM idempotency WHERE credential = ? AND idempotency_key = ?", arguments: [credential, key]).map {
            IdempotencyRecord(credential: $0["credential"], idempotencyKey: $0["idempotency_key"], requestHash: $0["request_hash"],
                              keyID: $0["key_id"], sealedKey: $0["sealed_key"], createdAt: Self.date($0["created_at"]))
        }
    }

    public func insert(_ key: KeyRecord, idempotency record: IdempotencyRecord, audit: AuditEvent) async throws -> IdempotencyRecord? {
        try await pool.write { db in
            // One writer at a time: of concurrent requests with one header, the first stores its
            // key and the others find its record here, in the same transaction as their insert.
            if let existing = try Self.idempotency(db, record.credential, record.idempotencyKey) { return existing }
            try Self.insert(key, db)
            try Self.insert(record, db)
            try Self.append(audit, db)
            return nil
        }
    }

    static func insert(_ record: IdempotencyRecord, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO idempotency (credential, idempotency_key, request_hash, key_id, sealed_key, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [record.credential, record.idempotencyKey, record.requestHash, record.keyID, record.sealedKey,
                             seconds(record.createdAt)])
    }

    public func pruneIdempotency(before date: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [Self.seconds(date)])
        }
    }

    // MARK: Audit and projects

    public func append(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        try await pool.write { db in
            for event in events { try Self.append(event, db) }
        }
    }

    static func append(_ e: AuditEvent, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO audit (at, event, actor, credential, key_id, target, team, code, client, request_id, count, reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [e.at.epochSeconds, e.event, e.actor, e.credential, e.keyID, e.target, e.team, e.code, e.client,
                             e.requestID, e.count, e.reason])
    }

    public func audit(keyID: String?, actor: String?, credential: String?, event: String?, after cursor: Int64?, limit: Int) async throws -> [AuditEvent] {
        try await pool.read { db in
            var conditions = ["id > ?"]
            var arguments: [(any DatabaseValueConvertible)?] = [cursor ?? 0]
            for (column, value) in [("key_id", keyID), ("actor", actor), ("credential", credential), ("event", event)] {
                if let value { conditions.append("\(column) = ?"); arguments.append(value) }
            }
            arguments.append(limit)
            return try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE \(conditions.joined(separator: " AND ")) ORDER BY id LIMIT ?",
                                    arguments: StatementArguments(arguments)).map {
                AuditEvent(id: $0["id"], at: Self.date($0["at"]), event: $0["event"], actor: $0["actor"], credential: $0["credential"],
                           keyID: $0["key_id"], target: $0["target"], team: $0["team"], code: $0["code"], client: $0["client"],
                           requestID: $0["request_id"], count: $0["count"], reason: $0["reason"])
            }
        }
    }

    public func pruneAudit(events: [String], before date: Date) async throws {
        try await pool.write { db in
            let marks = Array(repeating: "?", count: events.count).joined(separator: ", ")
            try db.execute(sql: "DELETE FROM audit WHERE event IN (\(marks)) AND at < ?",
                           arguments: StatementArguments(events.map { $0 as (any DatabaseValueConvertible)? } + [date.epochSeconds]))
        }
    }

    public func auditCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0 }
    }

    public func projects(team: String) async throws -> [Project] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM projects WHERE team = ? ORDER BY id", arguments: [team]).map {
                Project(id: $0["id"], team: $0["team"], name: $0["name"], createdBy: $0["created_by"], createdAt: Self.date($0["created_at"]))
            }
        }
    }

    public func createProject(team: String, name: String, by: String, at: Date) async throws -> Project {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO projects (team, name, created_by, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [team, name, by, Self.seconds(at)])
            return Project(id: db.lastInsertedRowID, team: team, name: name, createdBy: by, createdAt: Self.date(Self.seconds(at)))
        }
    }

    static func seconds(_ date: Date) -> Int64 { date.epochSeconds }
    static func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
    static func optionalDate(_ seconds: Int64?) -> Date? { seconds.map(date) }
}
