@preconcurrency import Crypto
import DevInfraCore
import Foundation

/// Where a request came from, for the audit rows its changes write.
public struct AuditOrigin: Sendable {
    public var client: String?
    public var requestID: String?
    public init(client: String?, requestID: String?) {
        self.client = client
        self.requestID = requestID
    }
}

/// A key just minted (or, for a retried request, the one minted before): the raw key, this once.
public struct MintedKey: Sendable {
    public var record: KeyRecord
    public var rawKey: String
    /// True when this answers a retry with the same `Idempotency-Key`: nothing new was minted.
    public var replayed = false
}

/// Key policy and its storage: who may mint, see, list, rotate and revoke what (`KeyRules`), key
/// lifetimes, idempotent retries, and the audit rows that go with each change. The HTTP
/// controller only reads requests and writes answers; later front ends (pages, gateways) call
/// the same methods, so the rules cannot drift between them.
struct KeyService: Sendable {
    let repository: any KeyRepository
    let secrets: ServerSecrets
    let clock: @Sendable () -> Date
    let usage: UsageRecorder
    let rejections: RejectionLog
    let guardrails: Guardrails

    struct CreateRequest: Sendable {
        var name: String
        var scopes: [String]
        var team: String?
        var expiresIn: Int?
        var idempotencyKey: String?
        /// The request's method, path and body hashed: a retry must be the same request.
        var requestHash: Data
        /// `TEAM/NAME`: mint for this integration (owner), bound to its team, within its allowlist.
        var integration: String?
        var rateLimit: RateLimitPolicy?
        var quota: QuotaInput?
    }

    /// A quota as a request gives it: a limit and a period.
    struct QuotaInput: Codable, Sendable, Equatable {
        var limit: Int64
        var period: QuotaPeriod

        init(from decoder: any Decoder) throws {
            try StrictObject.check(decoder, allowed: ["limit", "period"], field: "quota")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            limit = try c.decode(Int64.self, forKey: .limit)
            period = try c.decode(QuotaPeriod.self, forKey: .period)
        }

        func checked() throws -> Quota {
            guard limit >= 1, limit <= 1_000_000_000_000 else {
                throw APIError.invalidRequest("quota.limit must be a whole number from 1 to 1000000000000")
            }
            return Quota(limit: limit, period: period)
        }
    }

    func create(_ input: CreateRequest, by principal: Principal, origin: AuditOrigin) async throws -> MintedKey {
        try KeyRules.require(.keysWrite, principal)
        let name = try Limits.name(input.name, field: "name")
        let scopes = try KeyRules.parseScopes(input.scopes)
        try guardrails.check(input.rateLimit, field: "rate_limit")
        var quota = try input.quota?.checked()
        var rateLimit = input.rateLimit
        var quotaKey: String?
        try inheritLimits(principal, rateLimit: &rateLimit, quota: &quota, quotaKey: &quotaKey)
        var owner = principal.user
        var team = input.team
        if let id = input.integration {
            owner = try await integration(id, scopes: scopes, team: input.team, principal)
            team = owner.teams.first
        }
        try KeyRules.checkGrant(scopes: scopes, team: team, principal)
        if let team, try await !repository.teamExists(team) {
            throw APIError.notFound("no team \(Limits.clip(team) ?? "")")
        }
        let now = clock()
        let expiresAt = try input.expiresIn.map { now.addingTimeInterval(try Limits.seconds($0, field: "expires_in")) }
        try KeyRules.checkLifetime(expiresAt, principal)
        if let idempotencyKey = input.idempotencyKey,
           let previous = try await repository.idempotency(credential: principal.idempotencyScope, key: idempotencyKey) {
            return try await replay(previous, input.requestHash, principal, origin)
        }
        let key = APIKey.generate()
        let record = KeyRecord(keyID: key.keyID, secretHash: ServerSecrets.hash(secret: key.secret), name: name,
                               ownerID: owner.id, ownerName: owner.name, team: team, scopes: scopes,
                               createdAt: now.wholeSeconds, expiresAt: expiresAt?.wholeSeconds, createdBy: principal.user.name,
                               rateLimit: rateLimit, quota: quota, quotaKey: quotaKey, ownerKind: owner.kind)
        // For an integration's key the audit names both: the person (actor) and the integration (target).
        let audit = stamped(.init(at: now, event: "key.created", actor: principal.user.name, credential: principal.credential,
                                  keyID: key.keyID, target: owner.id == principal.user.id ? nil : owner.name, team: team), origin)
        if let seal = try sealed(key, input.idempotencyKey, input.requestHash, principal, now) {
            // A parallel request with the same header won: answer with its key; ours was never stored.
            if let winner = try await repository.insert(record, idempotency: seal, audit: audit) {
                return try await replay(winner, input.requestHash, principal, origin)
            }
        } else {
            try await repository.insert(record, audit: audit)
        }
        return MintedKey(record: record, rawKey: key.rawValue)
    }

    struct ListRequest: Sendable {
        var all = false
        var team: String?
        var owner: String?
        var cursor: String?
        var limit = 50
    }

    /// A page of keys: the caller's own, or (admins) everyone's, a team's or an owner's.
    func list(_ input: ListRequest, by principal: Principal) async throws -> [KeyRecord] {
        try KeyRules.require(.keysRead, principal)
        if let cursor = input.cursor, !APIKey.isKeyID(cursor) { throw APIError.invalidRequest("cursor must be a key id from next_cursor") }
        var ownerID: Int64? = principal.user.id
        if let team = input.team, !input.all, input.owner == nil, !principal.isAdmin, KeyRules.canManage(team, principal) {
            // A team admin lists every key bound to the team.
            ownerID = nil
        } else if input.all || input.team != nil || input.owner != nil {
            guard principal.isAdmin else {
                throw APIError(.adminRequired, "listing keys of others (all, team, owner) needs an admin credential", scope: "admin")
            }
            ownerID = nil
            if let ownerName = input.owner {
                guard let owner = try await repository.user(named: ownerName) else { throw APIError.notFound("no user \(Limits.clip(ownerName) ?? "")") }
                ownerID = owner.id
            }
        }
        let team = try KeyRules.listingTeam(asked: input.team, principal)
        return try await repository.keys(ownerID: ownerID, team: team, after: input.cursor, limit: input.limit).map(withPendingUse)
    }

    func show(_ id: String, by principal: Principal) async throws -> KeyRecord {
        try KeyRules.require(.keysRead, principal)
        return withPendingUse(try await visibleKey(id, principal))
    }

    func revoke(_ id: String, reason: String?, by principal: Principal, origin: AuditOrigin) async throws -> KeyRecord {
        try KeyRules.require(.keysWrite, principal)
        return try await revoke(try await visibleKey(id, principal), reason: reason, by: principal, origin: origin)
    }

    /// The same, for a caller that already looked the key up with `visibleKey` (one read, not two).
    func revoke(_ record: KeyRecord, reason: String?, by principal: Principal, origin: AuditOrigin) async throws -> KeyRecord {
        try KeyRules.require(.keysWrite, principal)
        let reason = try Limits.text(reason, field: "reason", max: Limits.maxReasonLength)
        let now = clock()
        let audit = stamped(.init(at: now, event: "key.revoked", actor: principal.user.name, credential: principal.credential,
                                  keyID: record.keyID, team: record.team), origin)
        guard let revoked = try await repository.revoke(id: record.keyID, at: now, by: principal.user.name, reason: reason, audit: audit) else {
            throw APIError.notFound("no key \(record.keyID)")
        }
        return revoked
    }

    struct RotateRequest: Sendable {
        var graceSeconds: Int?
        var idempotencyKey: String?
        var requestHash: Data
    }

    func rotate(_ id: String, _ input: RotateRequest, by principal: Principal, origin: AuditOrigin) async throws -> MintedKey {
        try KeyRules.require(.keysWrite, principal)
        return try await rotate(try await visibleKey(id, principal), input, by: principal, origin: origin)
    }

    /// The same, for a caller that already looked the key up with `visibleKey` (one read, not two).
    func rotate(_ old: KeyRecord, _ input: RotateRequest, by principal: Principal, origin: AuditOrigin) async throws -> MintedKey {
        try KeyRules.require(.keysWrite, principal)
        let grace = try Limits.seconds(input.graceSeconds ?? 7 * 24 * 3600, field: "grace_seconds", allowZero: true)
        try KeyRules.checkGrant(scopes: old.scopes, team: old.team, principal)
        if let idempotencyKey = input.idempotencyKey,
           let previous = try await repository.idempotency(credential: principal.idempotencyScope, key: idempotencyKey) {
            return try await replay(previous, input.requestHash, principal, origin)
        }
        let now = clock()
        guard old.state(at: now) == .active else { throw Self.notActive(old, now) }
        // A key from an OIDC exchange lives as long as its CI job's grant: rotating keeps its expiry.
        let renews = !(old.createdBy?.hasPrefix("oidc:") ?? false)
        let expiresAt = renews ? old.expiresAt.map { now.addingTimeInterval($0.timeIntervalSince(old.createdAt)).wholeSeconds } : old.expiresAt
        // A key rotating itself is renewed for the lifetime it had (`dev-infra rotate` of a CI key
        // with an expiry); rotating another key may not outlive the caller.
        if principal.keyID != old.keyID { try KeyRules.checkLifetime(expiresAt, principal) }
        let key = APIKey.generate()
        var record = old
        record.keyID = key.keyID
        record.secretHash = ServerSecrets.hash(secret: key.secret)
        record.createdAt = now.wholeSeconds
        record.expiresAt = expiresAt
        record.lastUsedAt = nil
        record.rotatedFrom = old.keyID
        record.rotatedTo = nil
        record.graceEndsAt = nil
        // The successor takes from the same quota count: rotating does not buy a fresh quota.
        if old.quota != nil { record.quotaKey = old.quotaKey ?? old.keyID }
        let audit = stamped(.init(at: now, event: "key.rotated", actor: principal.user.name, credential: principal.credential,
                                  keyID: old.keyID, target: key.keyID, team: old.team), origin)
        let outcome = try await repository.rotate(oldID: old.keyID, to: record, graceEndsAt: now.addingTimeInterval(grace), now: now,
                                                  idempotency: try sealed(key, input.idempotencyKey, input.requestHash, principal, now),
                                                  audit: audit)
        switch outcome {
        case .rotated: return MintedKey(record: record, rawKey: key.rawValue)
        case .notActive: throw Self.notActive(try await repository.key(id: old.keyID) ?? old, now)
        case .replay(let winner): return try await replay(winner, input.requestHash, principal, origin)
        }
    }

    // MARK: Idempotency

    static func hash(_ line: String, _ body: Data) -> Data { Data(SHA256.hash(data: Data((line + "\n").utf8) + body)) }

    private func sealed(_ key: APIKey, _ idempotencyKey: String?, _ requestHash: Data, _ principal: Principal, _ now: Date) throws -> IdempotencyRecord? {
        guard let idempotencyKey else { return nil }
        return IdempotencyRecord(credential: principal.idempotencyScope, idempotencyKey: idempotencyKey, requestHash: requestHash,
                                 keyID: key.keyID, sealedKey: try secrets.seal(key.rawValue), createdAt: now)
    }

    /// The answer to a retried create or rotate: the same key, and nothing minted. The caller is
    /// checked again first, as if it asked for that key now: rights shrink, keys enter their grace.
    private func replay(_ previous: IdempotencyRecord, _ requestHash: Data, _ principal: Principal, _ origin: AuditOrigin) async throws -> MintedKey {
        guard previous.requestHash == requestHash else {
            throw APIError(.idempotencyConflict, "this Idempotency-Key was used with a different request")
        }
        guard let record = try await repository.key(id: previous.keyID), KeyRules.canSee(record, principal) else {
            throw APIError.notFound("the key this Idempotency-Key minted is not visible to this credential")
        }
        try KeyRules.checkGrant(scopes: record.scopes, team: record.team, principal)
        // The successor of the caller's own rotation is the caller renewed, whatever its grace.
        if record.rotatedFrom == nil || record.rotatedFrom != principal.keyID { try KeyRules.checkLifetime(record.expiresAt, principal) }
        guard let raw = try? secrets.unseal(previous.sealedKey) else {
            throw APIError(.idempotencyConflict, "the earlier answer to this Idempotency-Key cannot be replayed; send a new one")
        }
        // Counted like rejections: a client retrying in a loop adds one row a flush, not one a retry.
        rejections.record(stamped(.init(at: clock(), event: "key.replayed", actor: principal.user.name, credential: principal.credential,
                                        keyID: record.keyID, team: record.team), origin))
        return MintedKey(record: record, rawKey: raw, replayed: true)
    }

    // MARK: Checks

    /// A key with its own limits cannot mint its way out of them (admins excepted): the new key
    /// gets the caller's rate limit unless it asks for a lower one, and the caller's quota (or a
    /// lower limit of the same period), taking from the caller's count.
    private func inheritLimits(_ principal: Principal, rateLimit: inout RateLimitPolicy?, quota: inout Quota?, quotaKey: inout String?) throws {
        guard !principal.isAdmin, principal.kind == .key else { return }
        if let own = principal.rateLimit {
            if let asked = rateLimit, asked.perSecond > own.perSecond + 1e-9 || asked.limit > own.limit {
                throw APIError(.adminRequired, "this key is limited to \(own.limit) per \(own.windowSeconds) s; a key it creates cannot have more",
                               scope: "admin")
            }
            rateLimit = rateLimit ?? own
        }
        if let period = principal.quotaPeriod, let limit = principal.quotaLimit, let keyID = principal.keyID {
            if let asked = quota, asked.period != period || asked.limit > limit {
                throw APIError(.adminRequired, "this key has a quota of \(limit) a \(period.rawValue); a key it creates shares it and cannot have more",
                               scope: "admin")
            }
            quota = quota ?? Quota(limit: limit, period: period)
            quotaKey = principal.quotaKey ?? keyID
        }
    }

    /// The integration `id` names, if `principal` manages its team and `scopes` are in its allowlist.
    private func integration(_ id: String, scopes: Set<Scope>, team: String?, _ principal: Principal) async throws -> User {
        guard let integration = try await repository.user(named: id), integration.kind == .integration, let home = integration.teams.first else {
            throw APIError.notFound("no integration \(Limits.clip(id) ?? "")")
        }
        try KeyRules.requireManage(home, principal)
        if let team, team != home {
            throw APIError(.teamMismatch, "integration \(integration.name) belongs to team \(home); its keys cannot act for team \(Limits.clip(team) ?? "")")
        }
        if let outside = scopes.subtracting(integration.scopes).sorted().first {
            throw APIError(.insufficientScope, "integration \(integration.name) may not hold \(outside.rawValue); its allowlist is "
                + (integration.allowedScopes ?? []).sorted().map(\.rawValue).joined(separator: " "), scope: outside.rawValue)
        }
        return integration
    }

    /// The key `id`, if the caller may see it (`KeyRules.canSee`). Others get 404, so key ids of
    /// other people and other teams cannot be probed.
    func visibleKey(_ id: String, _ principal: Principal) async throws -> KeyRecord {
        guard APIKey.isKeyID(id) else { throw APIError.invalidRequest("\"\(Limits.clip(id) ?? "")\" is not a key id (12 letters and digits)") }
        guard let record = try await repository.key(id: id), KeyRules.canSee(record, principal) else {
            throw APIError.notFound("no key \(id)")
        }
        return record
    }

    /// Use seen by this replica but not yet flushed shows in answers at once.
    private func withPendingUse(_ record: KeyRecord) -> KeyRecord {
        var record = record
        if let used = usage.pendingUse(of: record.keyID), used > (record.lastUsedAt ?? .distantPast) { record.lastUsedAt = used }
        return record
    }

    func stamped(_ event: AuditEvent, _ origin: AuditOrigin) -> AuditEvent { Self.stamp(event, origin) }

    static func stamp(_ event: AuditEvent, _ origin: AuditOrigin) -> AuditEvent {
        var event = event
        event.client = origin.client
        event.requestID = origin.requestID
        return event
    }

    static func notActive(_ record: KeyRecord, _ now: Date) -> APIError {
        APIError(.keyNotActive, "key \(record.keyID) is \(record.state(at: now).rawValue); only an active key can be rotated")
    }
}
