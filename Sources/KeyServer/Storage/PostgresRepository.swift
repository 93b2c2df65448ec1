import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// Several replicas on one PostgreSQL database, through postgres-nio's `PostgresClient` (a pool
/// of at most `settings.poolSize` connections). The schema and every method's semantics are
/// `SQLiteRepository`'s: integer epoch seconds for times, text for scopes, the same conditional
/// updates, an audit row in the change's own transaction.
///
/// Where SQLite has one writer, PostgreSQL has many, so:
/// - text columns that are sorted or paged on (key ids, names, teams) use the "C" collation, the
///   byte order SQLite's BINARY gives;
/// - requests with one `Idempotency-Key` take a transaction-scoped advisory lock on it, so the
///   second finds the first's record (and stores nothing) as it would behind SQLite's writer;
/// - a revocation or rotation `NOTIFY`s every replica in its transaction (see `ChangeFeed`).
///
/// `run()` must be running (a task, or a service in a `ServiceGroup`) while the repository is used,
/// and be started once. Every call is bounded by `settings.queryTimeout`; a database that is down,
/// refuses or does not answer in time is `StorageError.unavailable`.
public final class PostgresRepository: KeyRepository, Service {
    public let changes = ChangeFeed(live: false)
    /// Calls running now, for `/metrics`.
    let inFlight = NIOLockedValueBox(0)
    /// When "database unavailable" was last logged: once a second is enough during an outage.
    let lastUnavailableLog = NIOLockedValueBox<UInt64>(0)
    let settings: PostgresSettings
    let client: PostgresClient
    let logger: Logger

    /// How long a replica that revoked or rotated waits for its own notification before it answers.
    static let echoTimeout = Duration.seconds(2)
    /// The advisory lock of migrations ("devinfra"): outside the int4 range of `hashtext` locks.
    static let migrationLock: Int64 = 0x6465_7669_6E66_7261

    /// Builds the pool; nothing connects before `run()`.
    public init(settings: PostgresSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        client = PostgresClient(configuration: settings.clientConfiguration(), backgroundLogger: logger)
    }

    /// Runs the pool and the change listener until the task is cancelled (or a graceful shutdown).
    public func run() async throws {
        let client = client
        let listener = PostgresChangeListener(settings: settings, changes: changes, logger: logger)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                group.addTask { await listener.run() }
            }
        }
    }

    // MARK: Users and teams

    public func ping() async throws {
        try await run { call in try await call.execute("SELECT 1") }
    }

    public func createTeam(_ name: String, at: Date) async throws {
        try await run(duplicate: "team \(name)") { call in
            try await call.execute("INSERT INTO teams (name, created_at) VALUES (\(name), \(at.epochSeconds))")
        }
    }

    public func teamExists(_ name: String) async throws -> Bool {
        try await run { call in
            let rows = try await call.rows("SELECT 1 FROM teams WHERE name = \(name)")
            return !rows.isEmpty
        }
    }

    public func createUser(name: String, passwordHash: String?, isAdmin: Bool, teams: [String], at: Date) async throws -> User {
        try await run(duplicate: "user \(name)") { call in
            try await call.transaction { db in
                let inserted = try await db.rows("""
                    INSERT INTO users (name, password_hash, is_admin, created_at)
                    VALUES (\(name), \(passwordHash), \(isAdmin), \(at.epochSeconds)) RETURNING id
                    """)
                guard let id = try inserted.first?.decode(Int64.self) else { throw UnexpectedResult(statement: "INSERT INTO users") }
                for team in teams {
                    try await db.execute("INSERT INTO memberships (user_id, team) VALUES (\(id), \(team))")
                }
                return User(id: id, name: name, passwordHash: passwordHash, isAdmin: isAdmin, teams: teams.sorted(),
                            createdAt: Self.date(at.epochSeconds))
            }
        }
    }

    public func user(named name: String) async throws -> User? {
        try await run { call in
            try await call.rows("\(unescaped: Self.userSelect) WHERE u.name = \(name) ORDER BY u.name").first.map(Self.decodeUser)
        }
    }

    public func user(id: Int64) async throws -> User? {
        try await run { call in
            try await call.rows("\(unescaped: Self.userSelect) WHERE u.id = \(id) ORDER BY u.name").first.map(Self.decodeUser)
        }
    }

    public func users() async throws -> [User] {
        try await run { call in try await call.rows("\(unescaped: Self.userSelect) ORDER BY u.name").map(Self.decodeUser) }
    }

    public func adminExists() async throws -> Bool {
        try await run { call in
            let rows = try await call.rows("SELECT 1 FROM users WHERE is_admin LIMIT 1")
            return !rows.isEmpty
        }
    }

    /// A user with its teams (in byte order, as memberships.team sorts) in one query.
    static let userSelect = """
        SELECT u.id, u.name, u.password_hash, u.is_admin, u.created_at, u.kind, u.allowed_scopes, u.rate_limit, u.disabled_at,
               u.created_by, u.disabled_by_admin,
               ARRAY(SELECT m.team FROM memberships m WHERE m.user_id = u.id ORDER BY m.team) AS teams,
               ARRAY(SELECT m.team FROM memberships m WHERE m.user_id = u.id AND m.role = 'admin' ORDER BY m.team) AS admin_teams
        FROM users u
        """

    static func decodeUser(_ row: PostgresRow) throws -> User {
        let cells = row.makeRandomAccess()
        let id = try cells["id"].decode(Int64.self)
        let name = try cells["name"].decode(String.self)
        let passwordHash = try cells["password_hash"].decode(String?.self)
        let isAdmin = try cells["is_admin"].decode(Bool.self)
        let teams = try cells["teams"].decode([String].self)
        let createdAt = try cells["created_at"].decode(Int64.self)
        let kind = try cells["kind"].decode(String.self)
        let allowed = try cells["allowed_scopes"].decode(String?.self)
        let rateLimit = try cells["rate_limit"].decode(String?.self)
        let disabledAt = try cells["disabled_at"].decode(Int64?.self)
        let createdBy = try cells["created_by"].decode(String?.self)
        let adminTeams = try cells["admin_teams"].decode([String].self)
        let disabledByAdmin = try cells["disabled_by_admin"].decode(Bool.self)
        return User(id: id, name: name, passwordHash: passwordHash, isAdmin: isAdmin, teams: teams, createdAt: date(createdAt),
                    kind: OwnerKind(rawValue: kind) ?? .person, adminTeams: adminTeams, allowedScopes: allowed.map(Scope.decode),
                    rateLimit: RateLimitPolicy.stored(rateLimit), disabledAt: disabledAt.map(date), createdBy: createdBy,
                    disabledByAdmin: disabledByAdmin)
    }

    // MARK: Keys

    static let keySelect = """
        SELECT \(keyColumns)
        FROM api_keys k JOIN users u ON u.id = k.owner_id
        """

    /// A key's columns, with its owner's name, kind and kill switch and its team's.
    static let keyColumns = """
        k.key_id, k.secret_hash, k.name, k.owner_id, k.team, k.scopes, k.created_at, k.expires_at, k.last_used_at,
        k.revoked_at, k.revoked_by, k.revoke_reason, k.rotated_from, k.rotated_to, k.grace_ends_at,
        k.created_by, k.rate_limit, k.quota_limit, k.quota_period, k.quota_key,
        (SELECT c.quota_used FROM api_keys c WHERE c.key_id = COALESCE(k.quota_key, k.key_id)) AS quota_used,
        (SELECT c.quota_window FROM api_keys c WHERE c.key_id = COALESCE(k.quota_key, k.key_id)) AS quota_window,
        u.name AS owner_name, u.kind AS owner_kind, u.disabled_at AS owner_disabled_at,
        (SELECT t.disabled_at FROM teams t WHERE t.name = k.team) AS team_disabled_at
        """

    public func insert(_ key: KeyRecord, audit: AuditEvent) async throws {
        try await run { call in
            try await call.transaction { db in
                try await Self.insert(key, db)
                try await Self.append(audit, db)
            }
        }
    }

    static func insert(_ key: KeyRecord, _ db: some PostgresStatements) async throws {
        try await db.execute("""
            INSERT INTO api_keys (key_id, secret_hash, name, owner_id, team, scopes, created_at, expires_at, rotated_from,
                                  created_by, rate_limit, quota_limit, quota_period, quota_key)
            VALUES (\(key.keyID), \(key.secretHash), \(key.name), \(key.ownerID), \(key.team), \(Scope.encode(key.scopes)),
                    \(key.createdAt.epochSeconds), \(key.expiresAt?.epochSeconds), \(key.rotatedFrom),
                    \(key.createdBy), \(key.rateLimit?.stored), \(key.quota?.limit), \(key.quota?.period.rawValue), \(key.quotaKey))
            """)
    }

    public func key(id: String) async throws -> KeyRecord? {
        try await run { call in try await Self.key(id, call) }
    }

    static func key(_ id: String, _ db: some PostgresStatements) async throws -> KeyRecord? {
        try await db.rows("\(unescaped: keySelect) WHERE k.key_id = \(id)").first.map(decodeKey)
    }

    /// The per-request path of authentication: key, owner and the owner's teams in one round trip.
    public func keyWithOwner(id: String) async throws -> (KeyRecord, User)? {
        try await run { (call: Call) -> (KeyRecord, User)? in
            let rows = try await call.rows("""
                SELECT \(unescaped: Self.keyColumns), u.is_admin AS owner_is_admin, u.created_at AS owner_created_at,
                       u.allowed_scopes AS owner_allowed_scopes, u.rate_limit AS owner_rate_limit, u.created_by AS owner_created_by,
                       ARRAY(SELECT m.team FROM memberships m WHERE m.user_id = u.id) AS owner_teams,
                       ARRAY(SELECT m.team FROM memberships m WHERE m.user_id = u.id AND m.role = 'admin') AS owner_admin_teams
                FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.key_id = \(id)
                """)
            guard let row = rows.first else { return nil }
            let record = try Self.decodeKey(row)
            let cells = row.makeRandomAccess()
            let isAdmin = try cells["owner_is_admin"].decode(Bool.self)
            let teams = try cells["owner_teams"].decode([String].self)
            let createdAt = try cells["owner_created_at"].decode(Int64.self)
            let allowed = try cells["owner_allowed_scopes"].decode(String?.self)
            let rateLimit = try cells["owner_rate_limit"].decode(String?.self)
            let createdBy = try cells["owner_created_by"].decode(String?.self)
            let adminTeams = try cells["owner_admin_teams"].decode([String].self)
            let disabledAt = try cells["owner_disabled_at"].decode(Int64?.self)
            let owner = User(id: record.ownerID, name: record.ownerName, passwordHash: nil, isAdmin: isAdmin, teams: teams.sorted(),
                             createdAt: Self.date(createdAt), kind: record.ownerKind, adminTeams: adminTeams.sorted(),
                             allowedScopes: allowed.map(Scope.decode), rateLimit: RateLimitPolicy.stored(rateLimit),
                             disabledAt: disabledAt.map(Self.date), createdBy: createdBy)
            return (record, owner)
        }
    }

    public func keys(ownerID: Int64?, team: String?, after cursor: String?, limit: Int) async throws -> [KeyRecord] {
        let start: String = cursor ?? ""
        var binds = PostgresBindings()
        binds.append(start)
        var conditions = ["k.key_id > $\(binds.count)"]
        if let ownerID {
            binds.append(ownerID)
            conditions.append("k.owner_id = $\(binds.count)")
        }
        if let team {
            binds.append(team)
            conditions.append("k.team = $\(binds.count)")
        }
        binds.append(limit)
        let query = PostgresQuery(unsafeSQL: """
            \(Self.keySelect)
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY k.key_id LIMIT $\(binds.count)
            """, binds: binds)
        return try await run { call in try await call.rows(query).map(Self.decodeKey) }
    }

    public func revoke(id: String, at: Date, by: String, reason: String?, audit: AuditEvent) async throws -> KeyRecord? {
        let token = UUID().uuidString
        let payload = PostgresChangeListener.payload(.key(id), token: token)
        // Before the transaction: the echo may arrive before the commit returns here.
        changes.expectEcho(token)
        let outcome: (record: KeyRecord?, applied: Bool)
        do {
            outcome = try await run { call in
                try await call.transaction { db -> (record: KeyRecord?, applied: Bool) in
                    let changed = try await db.rows("""
                        UPDATE api_keys SET revoked_at = \(at.epochSeconds), revoked_by = \(by), revoke_reason = \(reason)
                        WHERE key_id = \(id) AND revoked_at IS NULL RETURNING key_id
                        """)
                    if !changed.isEmpty {
                        try await Self.append(audit, db)
                        try await Self.notify(payload, db)
                    }
                    let record = try await Self.key(id, db)
                    return (record: record, applied: !changed.isEmpty)
                }
            }
        } catch {
            // It may have committed before the failure reached us: forget the key anyway.
            await published(.key(id), token: token, notified: false)
            throw error
        }
        await published(.key(id), token: token, notified: outcome.applied)
        return outcome.record
    }

    public func rotate(oldID: String, to new: KeyRecord, graceEndsAt: Date, now: Date, idempotency: IdempotencyRecord?,
                       audit: AuditEvent) async throws -> RotationOutcome {
        let token = UUID().uuidString
        let payload = PostgresChangeListener.payload(.key(oldID), token: token)
        changes.expectEcho(token)
        let outcome: RotationOutcome
        do {
            outcome = try await run { call in
                try await call.transaction { db -> RotationOutcome in
                    if let idempotency {
                        // As in `insert(_:idempotency:audit:)`: a concurrent retry waits here and replays.
                        try await Self.lockIdempotency(idempotency.credential, idempotency.idempotencyKey, db)
                        if let existing = try await Self.idempotency(idempotency.credential, idempotency.idempotencyKey, db) {
                            return .replay(existing)
                        }
                    }
                    // The condition decides a race: of two rotations, or a rotation and a revocation,
                    // exactly one changes the row (the other waits for its lock, then finds it inactive).
                    let changed = try await db.rows("""
                        UPDATE api_keys SET rotated_to = \(new.keyID), grace_ends_at = \(graceEndsAt.epochSeconds)
                        WHERE key_id = \(oldID) AND rotated_to IS NULL AND revoked_at IS NULL
                          AND (expires_at IS NULL OR expires_at > \(now.epochSeconds))
                        RETURNING key_id
                        """)
                    guard !changed.isEmpty else { return .notActive }
                    try await Self.insert(new, db)
                    if let idempotency { try await Self.insert(idempotency, db) }
                    try await Self.append(audit, db)
                    try await Self.notify(payload, db)
                    return .rotated
                }
            }
        } catch {
            await published(.key(oldID), token: token, notified: false)
            throw error
        }
        await published(.key(oldID), token: token, notified: outcome == .rotated)
        return outcome
    }

    public func recordUse(_ lastUsed: [String: Date]) async throws {
        guard !lastUsed.isEmpty else { return }
        // In key order: replicas flushing the same keys lock the rows in one order, never in a cycle.
        let uses = lastUsed.map { (id: $0.key, at: $0.value.epochSeconds) }.sorted { $0.id < $1.id }
        try await run { call in
            try await call.transaction { db in
                for use in uses {
                    try await db.execute("""
                        UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), \(use.at)) WHERE key_id = \(use.id)
                        """)
                }
            }
        }
    }

    static func decodeKey(_ row: PostgresRow) throws -> KeyRecord {
        let cells = row.makeRandomAccess()
        let keyID = try cells["key_id"].decode(String.self)
        let secretHash = try cells["secret_hash"].decode(Data.self)
        let name = try cells["name"].decode(String.self)
        let ownerID = try cells["owner_id"].decode(Int64.self)
        let ownerName = try cells["owner_name"].decode(String.self)
        let team = try cells["team"].decode(String?.self)
        let scopes = try cells["scopes"].decode(String.self)
        let createdAt = try cells["created_at"].decode(Int64.self)
        let expiresAt = try cells["expires_at"].decode(Int64?.self)
        let lastUsedAt = try cells["last_used_at"].decode(Int64?.self)
        let revokedAt = try cells["revoked_at"].decode(Int64?.self)
        let revokedBy = try cells["revoked_by"].decode(String?.self)
        let revokeReason = try cells["revoke_reason"].decode(String?.self)
        let rotatedFrom = try cells["rotated_from"].decode(String?.self)
        let rotatedTo = try cells["rotated_to"].decode(String?.self)
        let graceEndsAt = try cells["grace_ends_at"].decode(Int64?.self)
        let createdBy = try cells["created_by"].decode(String?.self)
        let rateLimit = try cells["rate_limit"].decode(String?.self)
        let quotaLimit = try cells["quota_limit"].decode(Int64?.self)
        let quotaPeriod = try cells["quota_period"].decode(String?.self)
        let quotaUsed = try cells["quota_used"].decode(Int64?.self) ?? 0
        let quotaKey = try cells["quota_key"].decode(String?.self)
        let quotaWindow = try cells["quota_window"].decode(Int64?.self)
        let ownerKind = try cells["owner_kind"].decode(String.self)
        let ownerDisabled = try cells["owner_disabled_at"].decode(Int64?.self)
        let teamDisabled = try cells["team_disabled_at"].decode(Int64?.self)
        var quota: Quota?
        if let quotaLimit, let period = quotaPeriod.flatMap(QuotaPeriod.init(rawValue:)) {
            quota = Quota(limit: quotaLimit, period: period, used: quotaUsed, windowStart: quotaWindow.map(date))
        }
        return KeyRecord(keyID: keyID, secretHash: secretHash, name: name, ownerID: ownerID, ownerName: ownerName, team: team,
                         scopes: Scope.decode(scopes), createdAt: date(createdAt), expiresAt: expiresAt.map(date),
                         lastUsedAt: lastUsedAt.map(date), revokedAt: revokedAt.map(date), revokedBy: revokedBy,
                         revokeReason: revokeReason, rotatedFrom: rotatedFrom, rotatedTo: rotatedTo, graceEndsAt: graceEndsAt.map(date),
                         createdBy: createdBy, rateLimit: RateLimitPolicy.stored(rateLimit), quota: quota, quotaKey: quotaKey,
                         ownerKind: OwnerKind(rawValue: ownerKind) ?? .person, ownerDisabled: ownerDisabled != nil,
                         teamDisabled: teamDisabled != nil)
    }

    // MARK: Changes

    /// Tells every replica (and this one) that the user changed: caches drop the user's keys.
    /// Inside a transaction the notification goes out when it commits, and only then.
    static func notify(_ payload: String, _ db: some PostgresStatements) async throws {
        try await db.execute("SELECT pg_notify(\(PostgresChangeListener.channel), \(payload))")
    }

    /// After a change's transaction: this process's caches forget at once; when a notification
    /// went out (and the listener is up), wait for its echo, so that by the time the caller
    /// answers PostgreSQL has delivered it to every listening replica. Otherwise the wait is
    /// zero: it only clears the expected token.
    func published(_ change: ChangeFeed.Change, token: String, notified: Bool) async {
        changes.publish(change)
        let waited = notified && changes.isLive
        let echoed = await changes.waitForEcho(token, timeout: waited ? Self.echoTimeout : .zero)
        if waited && !echoed {
            // Our own notification did not come back: the LISTEN connection cannot be trusted to
            // carry the others' either. Dark until the listener has reconnected (it checks each second).
            logger.warning("change feed: a notification did not come back; reconnecting the listener")
            changes.setLive(false)
        }
    }

    // MARK: Idempotency

    public func idempotency(credential: String, key: String) async throws -> IdempotencyRecord? {
        try await run { call in try await Self.idempotency(credential, key, call) }
    }

    private static func idempotency(_ credential: String, _ key: String, _ db: some PostgresStatements) async throws -> IdempotencyRecord? {
        try await db.rows("""
            SELECT credential, idempotency_key, request_hash, key_id, sealed_key, created_at FROM idempotency
            WHERE credential = \(credential) AND idempotency_key = \(key)
            """).first.map { row in
            let cells = row.makeRandomAccess()
            let credential = try cells["credential"].decode(String.self)
            let idempotencyKey = try cells["idempotency_key"].decode(String.self)
            let requestHash = try cells["request_hash"].decode(Data.self)
            let keyID = try cells["key_id"].decode(String.self)
            let sealedKey = try cells["sealed_key"].decode(Data.self)
            let createdAt = try cells["created_at"].decode(Int64.self)
            return IdempotencyRecord(credential: credential, idempotencyKey: idempotencyKey, requestHash: requestHash, keyID: keyID,
                                     sealedKey: sealedKey, createdAt: date(createdAt))
        }
    }

    /// Held until the transaction ends: of concurrent requests with one credential and header,
    /// one proceeds and the others wait, then see its committed record.
    private static func lockIdempotency(_ credential: String, _ key: String, _ db: some PostgresStatements) async throws {
        try await db.execute("SELECT pg_advisory_xact_lock(hashtext(\(credential) || ' ' || \(key)))")
    }

    public func insert(_ key: KeyRecord, idempotency record: IdempotencyRecord, audit: AuditEvent) async throws -> IdempotencyRecord? {
        try await run { call in
            try await call.transaction { db -> IdempotencyRecord? in
                try await Self.lockIdempotency(record.credential, record.idempotencyKey, db)
                if let existing = try await Self.idempotency(record.credential, record.idempotencyKey, db) { return existing }
                try await Self.insert(key, db)
                try await Self.insert(record, db)
                try await Self.append(audit, db)
                return nil
            }
        }
    }

    private static func insert(_ record: IdempotencyRecord, _ db: some PostgresStatements) async throws {
        try await db.execute("""
            INSERT INTO idempotency (credential, idempotency_key, request_hash, key_id, sealed_key, created_at)
            VALUES (\(record.credential), \(record.idempotencyKey), \(record.requestHash), \(record.keyID), \(record.sealedKey),
                    \(record.createdAt.epochSeconds))
            """)
    }

    public func pruneIdempotency(before date: Date) async throws {
        try await run { call in try await call.execute("DELETE FROM idempotency WHERE created_at < \(date.epochSeconds)") }
    }

    // MARK: Audit and projects

    public func append(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        try await run { call in
            try await call.transaction { db in
                for event in events { try await Self.append(event, db) }
            }
        }
    }

    static func append(_ e: AuditEvent, _ db: some PostgresStatements) async throws {
        try await db.execute("""
            INSERT INTO audit (at, event, actor, credential, key_id, target, team, code, client, request_id, count, reason)
            VALUES (\(e.at.epochSeconds), \(e.event), \(e.actor), \(e.credential), \(e.keyID), \(e.target), \(e.team), \(e.code),
                    \(e.client), \(e.requestID), \(e.count), \(e.reason))
            """)
    }

    public func audit(keyID: String?, actor: String?, credential: String?, event: String?, after cursor: Int64?, limit: Int) async throws -> [AuditEvent] {
        let start: Int64 = cursor ?? 0
        var binds = PostgresBindings()
        binds.append(start)
        var conditions = ["id > $\(binds.count)"]
        for (column, value) in [("key_id", keyID), ("actor", actor), ("credential", credential), ("event", event)] {
            if let value {
                binds.append(value)
                conditions.append("\(column) = $\(binds.count)")
            }
        }
        binds.append(limit)
        let query = PostgresQuery(unsafeSQL: """
            SELECT id, at, event, actor, credential, key_id, target, team, code, client, request_id, count, reason FROM audit
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY id LIMIT $\(binds.count)
            """, binds: binds)
        return try await run { call in
            try await call.rows(query).map { row in
                let cells = row.makeRandomAccess()
                let id = try cells["id"].decode(Int64.self)
                let at = try cells["at"].decode(Int64.self)
                let event = try cells["event"].decode(String.self)
                let actor = try cells["actor"].decode(String?.self)
                let credential = try cells["credential"].decode(String?.self)
                let keyID = try cells["key_id"].decode(String?.self)
                let target = try cells["target"].decode(String?.self)
                let team = try cells["team"].decode(String?.self)
                let code = try cells["code"].decode(String?.self)
                let client = try cells["client"].decode(String?.self)
                let requestID = try cells["request_id"].decode(String?.self)
                let count = try cells["count"].decode(Int.self)
                let reason = try cells["reason"].decode(String?.self)
                return AuditEvent(id: id, at: Self.date(at), event: event, actor: actor, credential: credential, keyID: keyID,
                                  target: target, team: team, code: code, client: client, requestID: requestID, count: count, reason: reason)
            }
        }
    }

    public func pruneAudit(events: [String], before date: Date) async throws {
        try await run { call in
            try await call.execute("DELETE FROM audit WHERE event = ANY(\(events)) AND at < \(date.epochSeconds)")
        }
    }

    public func auditCount() async throws -> Int {
        try await run { call in
            let count = try await call.rows("SELECT COUNT(*) FROM audit").first?.decode(Int64.self) ?? 0
            return Int(count)
        }
    }

    public func projects(team: String) async throws -> [Project] {
        try await run { call in
            try await call.rows("SELECT id, team, name, created_by, created_at FROM projects WHERE team = \(team) ORDER BY id").map { row in
                let cells = row.makeRandomAccess()
                let id = try cells["id"].decode(Int64.self)
                let team = try cells["team"].decode(String.self)
                let name = try cells["name"].decode(String.self)
                let createdBy = try cells["created_by"].decode(String.self)
                let createdAt = try cells["created_at"].decode(Int64.self)
                return Project(id: id, team: team, name: name, createdBy: createdBy, createdAt: Self.date(createdAt))
            }
        }
    }

    public func createProject(team: String, name: String, by: String, at: Date) async throws -> Project {
        try await run { call in
            let inserted = try await call.rows("""
                INSERT INTO projects (team, name, created_by, created_at) VALUES (\(team), \(name), \(by), \(at.epochSeconds)) RETURNING id
                """)
            guard let id = try inserted.first?.decode(Int64.self) else { throw UnexpectedResult(statement: "INSERT INTO projects") }
            return Project(id: id, team: team, name: name, createdBy: by, createdAt: Self.date(at.epochSeconds))
        }
    }

    static func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    public var statistics: StorageStatistics? {
        StorageStatistics(callsInFlight: inFlight.withLockedValue { $0 }, poolSize: settings.poolSize)
    }

}

/// Statements on a pooled connection (`Call`) or inside a transaction (`Session`), so that a
/// helper serves both.
protocol PostgresStatements: Sendable {
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow]
}

extension PostgresStatements {
    func execute(_ query: PostgresQuery) async throws {
        _ = try await rows(query)
    }
}
