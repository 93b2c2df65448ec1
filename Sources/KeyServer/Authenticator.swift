import DevInfraCore
import Foundation
import HTTPTypes
import Hummingbird

/// Turns the credential of a request into a `Principal`, or the reason it is refused.
///
/// Order matters and is part of the contract: the key's shape and checksum first (no database
/// read for a malformed key), then lookup by key id, then a constant-time compare of the secret's
/// hash, and only then revoked/expired, so that a wrong secret always reads `unknown_key`.
struct Authenticator: Sendable {
    let repository: any KeyRepository
    /// Verified records by key id; a hit skips the database (see `KeyCache` for why that is safe).
    let cache: KeyCache
    let jwt: JWTSigner
    let clock: @Sendable () -> Date

    /// Database reads for key ids that turn out not to exist, charged to one bucket (a client
    /// address, a verifying service): the checksum is no secret, so anyone can make well-formed
    /// keys, and each unknown one is a read. Once the bucket is dry, a key not in memory is
    /// answered 429 before any read; keys in memory are still served.
    struct LookupBudget {
        let limiter: RateLimiter
        /// Made only on a cache miss: a key in memory costs no string building.
        let bucket: () -> String
        let now: Date
    }

    func principal(for request: Request, budget: LookupBudget? = nil) async throws -> Principal {
        if let header = request.headers[.authorization] {
            guard Self.hasBearerPrefix(header) else {
                throw APIError(.invalidToken, "the Authorization header must be \"Bearer <key or token>\"")
            }
            let credential = Self.trimmed(header.dropFirst(Self.bearer.count))
            return credential.hasPrefix(APIKey.prefix) ? try await key(credential, budget: budget) : try await token(credential)
        }
        if let header = request.headers[.xAPIKey] {
            return try await key(Self.trimmed(Substring(header)), budget: budget)
        }
        var missing = APIError(.missingCredentials, "send a key as \"Authorization: Bearer dinf_...\" or \"X-API-Key\"")
        missing.bareChallenge = true
        throw missing
    }

    /// A credential handed over as text (introspection's `token`): a key, else a JWT.
    func principal(credential: String, budget: LookupBudget? = nil) async throws -> Principal {
        credential.hasPrefix(APIKey.prefix) ? try await key(credential, budget: budget) : try await token(credential)
    }

    /// The public key id of a presented key, for the audit; never any of the secret.
    static func claimedKeyID(_ credential: String?) -> String? {
        guard let credential, credential.hasPrefix(APIKey.prefix) else { return nil }
        let id = String(credential.dropFirst(APIKey.prefix.count).prefix(APIKey.keyIDLength))
        return APIKey.isKeyID(id) ? id : nil
    }

    static let bearer = Array("bearer ".utf8)

    /// `Bearer ` in any case, compared on bytes (no lowercased copy of the header per request).
    static func hasBearerPrefix(_ header: String) -> Bool {
        var bytes = header.utf8.makeIterator()
        for expected in bearer {
            guard let byte = bytes.next(), expected == 0x20 ? byte == 0x20 : byte | 0x20 == expected else { return false }
        }
        return true
    }

    /// Spaces and tabs off both ends (what `trimmingCharacters(in: .whitespaces)` did for these headers).
    static func trimmed(_ text: Substring) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return "" }
        return String(text[first...last])
    }

    func key(_ raw: String, budget: LookupBudget? = nil) async throws -> Principal {
        let key: APIKey
        do { key = try APIKey.parse(raw) } catch { throw APIError(.malformedKey, error.detail) }
        let repository = repository
        let entry = try await cache.entry(key.keyID) {
            let bucket = budget?.bucket()
            if let budget, let bucket, let wait = budget.limiter.wouldWait(bucket, now: budget.now) {
                throw AuthMiddleware.tooMany("too many unknown keys from this client", wait)
            }
            let loaded = try await repository.keyWithOwner(id: key.keyID).map { (key: $0.0, owner: $0.1) }
            if loaded == nil, let budget, let bucket { _ = budget.limiter.take(bucket, now: budget.now) }
            return loaded
        }
        guard let (record, user) = entry,
              ServerSecrets.matches(secret: key.secret, hash: record.secretHash) else {
            throw APIError(.unknownKey, "no such key: check that it was copied whole, or create a new one")
        }
        let now = clock()
        if record.revokedAt != nil { throw APIError(.keyRevoked, "key \(record.keyID) was revoked") }
        if let expiresAt = record.expiresAt, expiresAt <= now { throw APIError(.keyExpired, "key \(record.keyID) expired") }
        if let grace = record.graceEndsAt, grace <= now {
            throw APIError(.keyExpired, "key \(record.keyID) was rotated to \(record.rotatedTo ?? "a new key") and its grace period has ended")
        }
        if user.disabledAt != nil {
            throw APIError(.keyDisabled, "key \(record.keyID) is disabled: its owner \(user.name) is switched off (dev-infra enable undoes it)")
        }
        if record.teamDisabled, let team = record.team {
            throw APIError(.keyDisabled, "key \(record.keyID) is disabled: team \(team) is switched off (dev-infra enable undoes it)")
        }
        let scopes: Set<Scope>
        switch user.kind {
        case .integration:
            // An allowlist narrowed later narrows every key the integration already has.
            scopes = record.scopes.intersection(user.scopes)
        case .person:
            // An admin flag removed from the user takes the admin scope away from the user's keys too.
            scopes = user.isAdmin ? record.scopes : record.scopes.subtracting([.admin, .auditRead, .keysIntrospect])
        }
        // A key in its rotation grace stops at the grace's end: that is its effective expiry.
        let stops = [record.expiresAt, record.graceEndsAt].compactMap { $0 }.min()
        return Principal(kind: .key, user: user, keyID: record.keyID, scopes: scopes, team: record.team, expiresAt: stops,
                         issuedAt: record.createdAt, rotating: record.rotatedTo != nil, rateLimit: record.rateLimit,
                         quotaPeriod: record.quota?.period, quotaLimit: record.quota?.limit, quotaKey: record.quotaKey)
    }

    func token(_ raw: String) async throws -> Principal {
        let now = clock()
        let claims = try jwt.verify(raw, now: now)
        guard let id = Int64(claims.sub), let user = try await repository.user(id: id) else {
            throw APIError(.invalidToken, "the token's user no longer exists")
        }
        if user.disabledAt != nil { throw APIError(.keyDisabled, "\(user.name) is switched off (dev-infra enable undoes it)") }
        return Principal(kind: .jwt, user: user, keyID: nil, scopes: user.scopes, team: nil,
                         expiresAt: Date(timeIntervalSince1970: TimeInterval(claims.exp)),
                         issuedAt: Date(timeIntervalSince1970: TimeInterval(claims.iat)))
    }
}
