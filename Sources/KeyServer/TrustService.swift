import DevInfraCore
import Foundation

/// OIDC token exchange: a CI job's signed token (GitHub Actions, GitLab, Buildkite...) for a
/// short-lived key of an integration, under a trust policy an admin wrote. No long-lived secret
/// sits in the CI's settings, and each exchange is audited with the job's identity (`sub`).
struct TrustService: Sendable {
    let repository: any KeyRepository
    let clock: @Sendable () -> Date
    let verifier: OIDCVerifier
    /// Exchanges per client address: a burst, then a few a second (each may fetch a JWKS).
    let exchanges = RateLimiter(perSecond: 10, burst: 60)
    static let maxLifetime = 3600
    static let maxClaims = 20

    struct PolicyInput: Sendable {
        var name: String
        var issuer: String
        var audience: String
        var claims: [String: String]
        var integration: String
        var scopes: [String]
        var lifetimeSeconds: Int?
    }

    func createPolicy(_ input: PolicyInput, by principal: Principal, origin: AuditOrigin) async throws -> TrustPolicy {
        try requireAdmin(principal)
        try IdentityService.checkName(input.name)
        let issuer = try Self.checkIssuer(input.issuer)
        guard (1...200).contains(input.audience.unicodeScalars.count) else { throw APIError.invalidRequest("audience must be 1 to 200 characters") }
        // On a shared issuer (GitHub's) anyone can get a token with any audience: a policy must pin
        // at least one claim to something more than a bare wildcard.
        guard !input.claims.isEmpty, input.claims.values.allSatisfy({ !$0.allSatisfy { $0 == "*" } }) else {
            throw APIError.invalidRequest("claims must pin at least one claim (repository, sub, ...), and none to just *")
        }
        guard input.claims.count <= Self.maxClaims,
              input.claims.allSatisfy({ (1...100).contains($0.key.unicodeScalars.count) && (1...500).contains($0.value.unicodeScalars.count) }) else {
            throw APIError.invalidRequest("claims: at most \(Self.maxClaims), names of 1 to 100 characters, values of 1 to 500")
        }
        guard input.integration.unicodeScalars.count <= 2 * Limits.maxNameLength + 1, !input.integration.contains("#"),
              let integration = try await repository.user(named: input.integration), integration.kind == .integration else {
            throw APIError.notFound("no integration \(Limits.clip(input.integration) ?? "")")
        }
        let scopes = try KeyRules.parseScopes(input.scopes)
        if let outside = scopes.subtracting(integration.scopes).sorted().first {
            throw APIError(.insufficientScope, "integration \(integration.name) may not hold \(outside.rawValue)", scope: outside.rawValue)
        }
        let lifetime = input.lifetimeSeconds ?? 900
        guard (60...Self.maxLifetime).contains(lifetime) else {
            throw APIError.invalidRequest("lifetime_seconds must be 60 to \(Self.maxLifetime): exchanged keys are short-lived")
        }
        let now = clock()
        let policy = TrustPolicy(name: input.name, issuer: issuer, audience: input.audience, claims: input.claims, integrationID: integration.id,
                                 integration: integration.name, scopes: scopes, lifetimeSeconds: lifetime, createdBy: principal.user.name,
                                 createdAt: now.wholeSeconds)
        try await repository.createPolicy(policy, audit: KeyService.stamp(.init(
            at: now, event: "oidc_policy.created", actor: principal.user.name, credential: principal.credential, target: policy.name,
            team: integration.teams.first), origin))
        return policy
    }

    func policies(by principal: Principal) async throws -> [TrustPolicy] {
        try requireAdmin(principal)
        return try await repository.policies()
    }

    func deletePolicy(_ name: String, by principal: Principal, origin: AuditOrigin) async throws -> TrustPolicy {
        try requireAdmin(principal)
        let audit = KeyService.stamp(.init(at: clock(), event: "oidc_policy.deleted", actor: principal.user.name, credential: principal.credential,
                                           target: Limits.clip(name)), origin)
        guard name.unicodeScalars.count <= 64, let policy = try await repository.deletePolicy(name: name, audit: audit) else {
            throw APIError.notFound("no policy \(Limits.clip(name) ?? "")")
        }
        return policy
    }

    /// An admin credential not bound to a team: a policy can mint keys of any team's integration.
    private func requireAdmin(_ principal: Principal) throws {
        guard principal.isAdmin else { throw APIError(.adminRequired, "OIDC trust policies are managed by admins", scope: "admin") }
        if let bound = principal.team {
            throw APIError(.teamMismatch, "this key belongs to team \(bound); OIDC trust policies need a team-less admin credential")
        }
    }

    /// https, or http to a loopback address (a test's provider); no query, fragment or user info.
    static func checkIssuer(_ text: String) throws -> String {
        guard text.utf8.count <= 500, let url = URL(string: text), let host = url.host, url.query == nil, url.fragment == nil,
              url.user == nil, url.password == nil,
              url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host)) else {
            throw APIError.invalidRequest("issuer must be an https URL (or http to a loopback address), as the tokens' iss claim spells it")
        }
        return text
    }

    // MARK: Exchange

    struct Exchanged: Sendable {
        var minted: MintedKey
        var policy: TrustPolicy
    }

    /// The token's verdict, or the refusal (audited by the caller with its reason code).
    func exchange(token: String, policyName: String?, origin: AuditOrigin) async throws -> Exchanged {
        guard !token.isEmpty, token.utf8.count <= 16 * 1024 else { throw APIError(.oidcInvalidToken, "token must be a JWT of at most 16 KiB") }
        let now = clock()
        var policies = try await repository.policies()
        if let policyName { policies = policies.filter { $0.name == policyName } }
        let verified = try await verifier.verify(token, trustedIssuers: Set(policies.map(\.issuer)))
        let fromIssuer = policies.filter { $0.issuer == verified.issuer }
        let forAudience = fromIssuer.filter { verified.audiences.contains($0.audience) }
        guard !forAudience.isEmpty else {
            // What the policies say stays in the audit: anyone can get a token of a shared issuer.
            throw APIError(.oidcAudienceMismatch, "no trust policy of this issuer accepts the token's audience; request the token with the audience your policy names")
        }
        guard let policy = forAudience.first(where: { policy in
            policy.claims.allSatisfy { name, pattern in verified.claims[name].map { ClaimPattern.matches(pattern, $0) } ?? false }
        }) else {
            throw APIError(.oidcClaimsMismatch, "the token's claims (repository, ref, ...) meet no trust policy's conditions")
        }
        guard let integration = try await repository.user(id: policy.integrationID), integration.kind == .integration else {
            throw APIError.notFound("the policy's integration no longer exists")
        }
        if integration.disabledAt != nil { throw APIError(.keyDisabled, "integration \(integration.name) is switched off") }
        // Last, just before minting: a token refused for any other reason can be retried once fixed.
        guard try await repository.claimTokenID(issuer: verified.issuer, jti: verified.jti, expiresAt: verified.expiresAt.addingTimeInterval(120),
                                                now: now) else {
            throw APIError(.oidcReplay, "this token (its jti) was exchanged before; each CI token buys one key")
        }
        let key = APIKey.generate()
        // `sub` is the issuer's text: printable ASCII only in a key's name (`Limits.clip` escapes the rest).
        let name = String("oidc \(policy.name) \(Limits.clip(verified.subject, 80) ?? "")".unicodeScalars.prefix(Limits.maxNameLength))
        let record = KeyRecord(keyID: key.keyID, secretHash: ServerSecrets.hash(secret: key.secret), name: name, ownerID: integration.id,
                               ownerName: integration.name, team: integration.teams.first, scopes: policy.scopes.intersection(integration.scopes),
                               createdAt: now.wholeSeconds, expiresAt: now.addingTimeInterval(TimeInterval(policy.lifetimeSeconds)).wholeSeconds,
                               createdBy: "oidc:\(policy.name)", ownerKind: .integration)
        let audit = KeyService.stamp(.init(at: now, event: "key.created", actor: "oidc:\(Limits.clip(verified.subject, 200) ?? "")",
                                           credential: "oidc:\(policy.name)", keyID: key.keyID, target: integration.name,
                                           team: integration.teams.first), origin)
        try await repository.insert(record, audit: audit)
        return Exchanged(minted: MintedKey(record: record, rawKey: key.rawValue), policy: policy)
    }
}
