import DevInfraCore
import Foundation

/// `PATCH /v1/keys/{id}`: a key can be renamed and narrowed, never widened. Scopes only shrink and
/// the expiry only comes sooner, for everyone; a higher rate limit, a larger or different quota,
/// or a quota reset is an admin's adjustment.
extension KeyService {
    struct UpdateRequest: Sendable {
        var name: String?
        var scopes: [String]?
        var expiresIn: Int?
        var rateLimit: RateLimitPolicy?
        var quota: QuotaInput?
        var resetQuota = false
        /// Whether the body named any field (`{"reset_quota": false}` changes nothing, and says so with a 200).
        var namesAField = true
    }

    func update(_ id: String, _ input: UpdateRequest, by principal: Principal, origin: AuditOrigin) async throws -> KeyRecord {
        try KeyRules.require(.keysWrite, principal)
        let old = try await visibleKey(id, principal)
        let now = clock()
        guard [.active, .rotating, .disabled].contains(old.state(at: now)) else {
            throw APIError(.keyNotActive, "key \(old.keyID) is \(old.state(at: now).rawValue); only a usable key can be changed")
        }
        var new = old
        var changed: [String] = []
        if let name = input.name {
            new.name = try Limits.name(name, field: "name")
            changed.append("name")
        }
        if let names = input.scopes {
            let scopes = try KeyRules.parseScopes(names)
            if let added = scopes.subtracting(old.scopes).sorted().first {
                throw APIError(.insufficientScope, "a key's scopes can only be narrowed; \(added.rawValue) is not among them", scope: added.rawValue)
            }
            new.scopes = scopes
            changed.append("scopes")
        }
        if let seconds = input.expiresIn {
            let expiresAt = now.addingTimeInterval(try Limits.seconds(seconds, field: "expires_in")).wholeSeconds
            if let current = old.expiresAt, expiresAt > current {
                throw APIError(.expiryExceedsCredential, "a key's expiry can only be brought forward (it expires at \(ISO8601DateFormatter().string(from: current)))")
            }
            try KeyRules.checkLifetime(expiresAt, principal)
            new.expiresAt = expiresAt
            changed.append("expires_at")
        }
        if let policy = input.rateLimit {
            try guardrails.check(policy, field: "rate_limit")
            let current = old.rateLimit.map(guardrails.bucket) ?? guardrails.defaultRate
            if !principal.isAdmin && (policy.perSecond > current.perSecond + 1e-9 || guardrails.bucket(policy).burst > current.burst) {
                throw APIError(.adminRequired, "raising a key's rate limit is an admin's adjustment", scope: "admin")
            }
            new.rateLimit = policy
            changed.append("rate_limit")
        }
        var reset = input.resetQuota
        if let asked = input.quota {
            let quota = try asked.checked()
            if !principal.isAdmin, let current = old.quota, current.period != quota.period || quota.limit > current.limit {
                throw APIError(.adminRequired, "raising or changing a key's quota is an admin's adjustment", scope: "admin")
            }
            if old.quota?.period != quota.period { reset = true }
            new.quota = Quota(limit: quota.limit, period: quota.period, used: old.quota?.used ?? 0, windowStart: old.quota?.windowStart)
            changed.append("quota")
        }
        if input.resetQuota {
            guard principal.isAdmin else { throw APIError(.adminRequired, "resetting a key's quota is an admin's adjustment", scope: "admin") }
            // A key without a quota has no count to reset: nothing to do, and nothing wrong.
            if old.quota != nil || input.quota != nil { changed.append("quota_used") }
        }
        guard !changed.isEmpty else {
            if input.namesAField { return old }
            throw APIError.invalidRequest("name at least one of name, scopes, expires_in, rate_limit, quota, reset_quota")
        }
        let audit = stamped(.init(at: now, event: "key.updated", actor: principal.user.name, credential: principal.credential,
                                  keyID: old.keyID, target: changed.joined(separator: ","), team: old.team), origin)
        guard let stored = try await repository.update(new, resetQuota: reset, audit: audit) else {
            throw APIError(.keyNotActive, "key \(old.keyID) was revoked meanwhile")
        }
        return stored
    }
}
